// Source maps for the bundles, cut down to this repository's own sources: the debug line of an
// unexpected error names actions/…/*.ts and packages/…/*.ts, while the AWS SDK and the other
// dependencies (most of each bundle) cost nothing. Code of a dropped source is marked unmapped, so
// a frame in it is never attributed to the nearest own line. Plain JavaScript, like bundle.mjs, so
// that bundling needs no Node with TypeScript support; its types are in source-maps.d.mts.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]))

function decodeSegment(text) {
  const values = []
  let value = 0
  let shift = 0
  for (const char of text) {
    const digit = DIGIT.get(char) ?? 0
    value += (digit & 31) << shift
    if (digit & 32) {
      shift += 5
      continue
    }
    values.push(value & 1 ? -(value >>> 1) : value >>> 1)
    value = 0
    shift = 0
  }
  return values
}

function encodeValue(n) {
  let vlq = n < 0 ? (-n << 1) | 1 : n << 1
  let out = ''
  do {
    let digit = vlq & 31
    vlq >>>= 5
    if (vlq > 0) digit |= 32
    out += BASE64[digit]
  } while (vlq > 0)
  return out
}

/**
 * Keeps the segments whose source `keep` accepts (names dropped), one source-less segment where a
 * run of other code begins. Returns the new map, or undefined when nothing of ours is in it.
 */
export function pruneSourceMap(map, keep) {
  const kept = map.sources.map((source) => keep(source))
  const newIndex = []
  const sources = []
  map.sources.forEach((source, i) => {
    if (kept[i]) {
      newIndex[i] = sources.length
      sources.push(source)
    }
  })
  if (sources.length === 0) return undefined
  let source = 0
  let line = 0
  let column = 0
  const previous = { source: 0, line: 0, column: 0 }
  const lines = map.mappings.split(';').map((text) => {
    let generated = 0
    let lastGenerated = 0
    let inForeign = false
    const out = []
    for (const segment of text ? text.split(',') : []) {
      const v = decodeSegment(segment)
      const [delta = 0, sourceDelta = 0, lineDelta = 0, columnDelta = 0] = v
      generated += delta
      const mapped = v.length >= 4
      if (mapped) {
        source += sourceDelta
        line += lineDelta
        column += columnDelta
      }
      if (!mapped || !kept[source]) {
        if (!inForeign) {
          out.push(encodeValue(generated - lastGenerated))
          lastGenerated = generated
          inForeign = true
        }
        continue
      }
      inForeign = false
      const s = newIndex[source]
      out.push(
        encodeValue(generated - lastGenerated) +
          encodeValue(s - previous.source) +
          encodeValue(line - previous.line) +
          encodeValue(column - previous.column),
      )
      lastGenerated = generated
      Object.assign(previous, { source: s, line, column })
    }
    return out.join(',')
  })
  return { version: 3, sources, names: [], mappings: lines.join(';') }
}

/** Prunes each written map in place; a chunk with no own code loses its map and its map comment. */
export function pruneSourceMaps(outputs, keep) {
  for (const file of outputs.filter((f) => f.endsWith('.js'))) {
    const mapFile = `${file}.map`
    const pruned = pruneSourceMap(JSON.parse(readFileSync(mapFile, 'utf8')), keep)
    if (pruned) {
      writeFileSync(mapFile, JSON.stringify(pruned))
      continue
    }
    rmSync(mapFile)
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\n?$/, '\n'))
  }
}
