// Bundle size and start-up benchmark: for each action, the bytes of its bundle (everything under
// dist/<action>, main and post, all chunks and source maps) and of what it loads before validating inputs, and the
// median wall time from process start to a clear input error under Node 24.
// Usage: node bench/bundles.ts [runs=31]
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const runs = Number(process.argv[2] ?? 31)
const SIZE_LIMIT = 800 * 1024
const STARTUP_LIMIT_MS = 110

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  )
}

/** The files a module imports statically, transitively: what Node loads before any code runs. */
function staticClosure(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen
  seen.add(entry)
  const source = readFileSync(entry, 'utf8')
  for (const match of source.matchAll(/(?:^|[;}])\s*import\s*(?:[^'"]*?from\s*)?["'](\.[^"']+)["']/g)) {
    staticClosure(resolve(dirname(entry), match[1] as string), seen)
  }
  return seen
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

function timeRun(args: string[], env: Record<string, string>): number {
  const started = process.hrtime.bigint()
  spawnSync(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' })
  return Number(process.hrtime.bigint() - started) / 1e6
}

const baseline = median(Array.from({ length: runs }, () => timeRun(['-e', '0'], {})))
const rows: string[] = []
const results: { action: string; bundleBytes: number; eagerBytes: number; startupMs: number; ok: boolean }[] =
  []
let failed = false
for (const action of readdirSync(join(root, 'dist'), { withFileTypes: true }).filter((d) =>
  d.isDirectory(),
)) {
  const dir = join(root, 'dist', action.name)
  const total = filesUnder(dir).reduce((sum, file) => sum + statSync(file).size, 0)
  // index.js turns source maps on and then imports run.js: both load before the input check.
  const loaded = staticClosure(join(dir, 'index.js'))
  if (existsSync(join(dir, 'run.js'))) staticClosure(join(dir, 'run.js'), loaded)
  const eager = [...loaded].reduce((sum, file) => sum + statSync(file).size, 0)
  // An unknown value for a required-with-default input: every action rejects it before any work.
  const env = {
    INPUT_TIMEOUT: 'soon',
    'INPUT_HEALTH-TIMEOUT': 'soon',
    INPUT_REPOSITORY: 'Bad Name',
    INPUT_IMAGE: 'x',
  }
  const times = Array.from({ length: runs }, () => timeRun([join(dir, 'index.js')], env))
  const startup = median(times)
  const ok = total <= SIZE_LIMIT && startup <= STARTUP_LIMIT_MS
  failed ||= !ok
  results.push({ action: action.name, bundleBytes: total, eagerBytes: eager, startupMs: startup, ok })
  rows.push(
    `| ${action.name} | ${(total / 1024).toFixed(0)} KB | ${(eager / 1024).toFixed(0)} KB | ${startup.toFixed(0)} ms | ${ok ? 'yes' : 'NO'} |`,
  )
}
console.log(
  `Node ${process.version}, ${runs} runs each; bare \`node -e 0\`: ${baseline.toFixed(0)} ms median\n`,
)
console.log(
  '| action | bundle (all files) | loaded before input check | median start-up to input error | within 800 KB / 110 ms |',
)
console.log('|---|---|---|---|---|')
console.log(rows.join('\n'))
// BENCH_RESULTS: where bench/run.mjs collects the figures (bench/results/*.json).
if (process.env.BENCH_RESULTS)
  writeFileSync(
    process.env.BENCH_RESULTS,
    JSON.stringify(
      {
        bench: 'bundles',
        node: process.version,
        runs,
        baselineMs: baseline,
        limits: { bytes: SIZE_LIMIT, startupMs: STARTUP_LIMIT_MS },
        actions: results,
        ok: !failed,
      },
      null,
      2,
    ) + '\n',
  )
process.exitCode = failed ? 1 : 0
