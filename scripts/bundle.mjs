#!/usr/bin/env node
// Builds dist/<action>/{index,post}.js from actions/<action>/src/{index,post}.ts: one esbuild pass
// per action, found by convention. Output is ESM for node24, minified, with the AWS SDK split into
// chunks that load only after inputs are validated.
import { build } from 'esbuild'
import { existsSync, readdirSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
mkdirSync(join(root, '.tmp'), { recursive: true })
const only = process.argv.slice(2)

/**
 * Dependencies of dependencies that these actions never run get stubs (see scripts/stubs):
 * @actions/http-client's undici (ProxyAgent only) and the AWS SDK's browser-only bowser.
 */
const stubUnusedDependencies = {
  name: 'stub-unused-dependencies',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) =>
      args.importer.includes(`${join('node_modules', '@actions', 'http-client')}`)
        ? { path: join(root, 'scripts/stubs/undici-for-http-client.js') }
        : undefined,
    )
    b.onResolve({ filter: /^bowser$/ }, () => ({ path: join(root, 'scripts/stubs/bowser.js') }))
  },
}

const actions = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'actions', d.name, 'src', 'index.ts')))
  .map((d) => d.name)
  .filter((name) => only.length === 0 || only.includes(name))

const licenses = new Map()
for (const name of actions) {
  const src = join(root, 'actions', name, 'src')
  const outdir = join(root, 'dist', name)
  rmSync(outdir, { recursive: true, force: true })
  const entryPoints = { index: join(src, 'index.ts') }
  if (existsSync(join(src, 'post.ts'))) entryPoints.post = join(src, 'post.ts')
  const result = await build({
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    minify: true,
    mainFields: ['module', 'main'],
    chunkNames: 'chunks/[name]-[hash]',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [stubUnusedDependencies],
    // CommonJS dependencies call require() for Node built-ins; give ESM output a real one.
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  })
  writeFileSync(join(root, '.tmp', `meta-${name}.json`), JSON.stringify(result.metafile))
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (match) licenses.set(match[1], input.slice(0, match.index + match[0].length))
  }
  console.log(`dist/${name}: ${Object.keys(result.metafile.outputs).length} files`)
}

// Third-party licenses of everything bundled, as one file beside the bundles.
if (only.length === 0) {
  const text = [...licenses.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([pkg, dir]) => {
      const file = readdirSync(join(root, dir)).find((f) => /^licen[cs]e/i.test(f))
      const body = file ? readFileSync(join(root, dir, file), 'utf8').trim() : '(no license file shipped)'
      return `${pkg}\n${'-'.repeat(pkg.length)}\n${body}\n`
    })
    .join('\n')
  writeFileSync(join(root, 'dist', 'licenses.txt'), text)
}
