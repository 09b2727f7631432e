import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { runAction, REPO_ROOT } from '@ecs-lockstep/action-runner'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SourceMap } from 'node:module'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pruneSourceMap } from '../../scripts/source-maps.mjs'

describe('pruneSourceMap', () => {
  // One generated line: a dependency's code at columns 0 and 20, ours at 10 and 30.
  const map = {
    version: 3,
    sources: ['../../node_modules/dep/index.js', '../../packages/core/src/run.ts'],
    names: [],
    mappings: 'AAAA,UCKE,UDFF,UCGA',
  }
  const pruned = pruneSourceMap(map, (source) => !source.includes('node_modules/'))

  it('keeps our own lines where they were and drops the dependencies', () => {
    expect(pruned?.sources).toEqual(['../../packages/core/src/run.ts'])
    const lookup = new SourceMap(pruned as ConstructorParameters<typeof SourceMap>[0])
    expect(lookup.findEntry(0, 12)).toMatchObject({
      originalSource: '../../packages/core/src/run.ts',
      originalLine: 5,
    })
    expect(lookup.findEntry(0, 31)).toMatchObject({ originalLine: 6, originalColumn: 0 })
  })

  it("marks the dependencies' code unmapped rather than giving it to the nearest own line", () => {
    const lookup = new SourceMap(pruned as ConstructorParameters<typeof SourceMap>[0])
    // Without the marker at column 20, column 25 would resolve to run.ts line 5.
    const sourceAt = (column: number) =>
      (lookup.findEntry(0, column) as { originalSource?: string } | undefined)?.originalSource
    expect(sourceAt(25)).toBeUndefined()
    expect(sourceAt(3)).toBeUndefined()
  })

  it('gives up a map with none of our sources', () => {
    expect(pruneSourceMap(map, () => false)).toBeUndefined()
  })
})

describe('the bundles’ source maps', () => {
  function filesUnder(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
    )
  }

  it('name only sources of this repository that exist, and every map comment has its map', () => {
    const scripts = filesUnder(join(REPO_ROOT, 'dist')).filter((f) => f.endsWith('.js'))
    let maps = 0
    for (const file of scripts) {
      const comment = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(file, 'utf8'))
      if (!comment) continue
      maps++
      const mapFile = resolve(dirname(file), comment[1] as string)
      expect(existsSync(mapFile)).toBe(true)
      const { sources } = JSON.parse(readFileSync(mapFile, 'utf8')) as { sources: string[] }
      for (const source of sources) {
        expect(source).not.toMatch(/node_modules/)
        expect(existsSync(resolve(dirname(mapFile), source))).toBe(true)
      }
    }
    expect(maps).toBeGreaterThan(10)
  })
})

describe('a failing step’s debug line', () => {
  // STS rejects the credentials, as it does for a revoked key: the preflight's first call fails.
  let server: Server
  let endpoint = ''
  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume()
      request.on('end', () => {
        response.writeHead(403, { 'content-type': 'text/xml' })
        response.end(
          '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>1</RequestId></ErrorResponse>',
        )
      })
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((done) => server.close(done))
  })

  it('shows the stack at the TypeScript source, and the AWS error it was caused by', async () => {
    const run = await runAction('drain-and-deploy', {
      inputs: { cluster: 'wwhd-cluster', service: 'wwhd-backend' },
      env: {
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'example',
        // A re-run with debug logging: the runner sets RUNNER_DEBUG.
        RUNNER_DEBUG: '1',
      },
      timeoutMs: 30_000,
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toContain('The AWS credentials were rejected (InvalidClientTokenId)')
    const debug = run.commands
      .filter((c) => c.name === 'debug')
      .map((c) => c.value)
      .join('\n')
    // Frames point at the .ts files (source-mapped), not at dist/…/chunks/*.js.
    expect(debug).toMatch(/packages\/core\/src\/aws\/errors\.ts:\d+:\d+/)
    expect(debug).toMatch(/packages\/ecs-deploy\/src\/plan\.ts:\d+:\d+/)
    expect(debug).toMatch(
      /Caused by: InvalidClientTokenId: The security token included in the request is invalid\./,
    )
  })
})
