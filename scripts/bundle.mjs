#!/usr/bin/env node
// Builds dist/<action>/{index,post}.js from actions/<action>/src/{index,post}.ts: one esbuild pass
// per action, found by convention. Output is ESM for node24, minified, with the AWS SDK split into
// chunks that load only after inputs are validated.
import { build } from 'esbuild'
import { existsSync, readdirSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pruneSourceMaps } from './source-maps.mjs'

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
  // index.js and post.js (what action.yml names) turn source maps on, then load run.js / run-post.js.
  const entryPoints = { run: join(src, 'index.ts') }
  if (existsSync(join(src, 'post.ts'))) entryPoints['run-post'] = join(src, 'post.ts')
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
    // Maps without the sources' text, pruned to our own code below: stacks name the .ts line.
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
    plugins: [stubUnusedDependencies],
    // CommonJS dependencies call require() for Node built-ins; give ESM output a real one.
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  })
  writeFileSync(join(root, '.tmp', `meta-${name}.json`), JSON.stringify(result.metafile))
  pruneSourceMaps(
    Object.keys(result.metafile.outputs).map((file) => resolve(file)),
    (source) => !/(^|\/)(node_modules|scripts\/stubs)\//.test(source),
  )
  for (const [wrapper, bundle] of [
    ['index.js', 'run.js'],
    ['post.js', 'run-post.js'],
  ]) {
    if (!existsSync(join(outdir, bundle))) continue
    // The runner passes no --enable-source-maps; Node maps only modules loaded after this call.
    writeFileSync(join(outdir, wrapper), `process.setSourceMapsEnabled(true);await import('./${bundle}');\n`)
  }
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (match) licenses.set(match[1], input.slice(0, match.index + match[0].length))
  }
  console.log(
    `dist/${name}: ${readdirSync(outdir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length} files`,
  )
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
