// Deploy waiting benchmark: how long after ECS reaches a state does drain-and-deploy notice it, and
// how many ECS calls does a deploy cost? Runs the bundled action (as the runner would) against
// ecs-local's simulated runtime with realistic durations, and matches each "task X: A → B" line of
// the action's log (timestamped as it arrives) with the moment ecs-local's task timeline reached B.
// Usage: node bench/deploy-latency.ts [deploys=3] [deregistration-delay-seconds=20]
import { DescribeServicesCommand } from '@aws-sdk/client-ecs'
import {
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { runAction } from '@ecs-lockstep/action-runner'
import { startEcsLocal } from '@ecs-lockstep/ecs-local'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSampleStack } from '../examples/sample-backend/stack.ts'
import { keepLongPollOpen } from '../test/support/load-balancer.ts'

const deploys = Number(process.argv[2] ?? 3)
const delaySeconds = Number(process.argv[3] ?? 20)
const stateDir = mkdtempSync(join(tmpdir(), 'bench-latency-'))
const local = await startEcsLocal({
  runtime: 'simulated',
  stateDir,
  simulated: { defaultBehaviour: { takesLock: true, startMs: 2000, stopMs: 3000 }, holdPath: '/stream' },
})
const stack = await createSampleStack(local, {
  cluster: 'bench',
  service: 'bench-backend',
  image: 'wwhd-dev-backend:v0',
  jwtSecret: 'bench',
  deregistrationDelaySeconds: delaySeconds,
})
const config = {
  endpoint: local.endpoint,
  region: local.region,
  credentials: { accessKeyId: 'AKIABENCH', secretAccessKey: 'x' },
}
await new ElasticLoadBalancingV2Client(config).send(
  new ModifyTargetGroupAttributesCommand({
    TargetGroupArn: stack.targetGroupArn,
    Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(delaySeconds) }],
  }),
)

// A client whose long poll is always open: each drain lasts the whole deregistration delay, as
// with a live service's clients (ELB ends an idle target's drain at once).
const stopLongPoll = keepLongPollOpen(`${stack.url}/stream`)
const delays: number[] = []
const callsPerDeploy: number[] = []
const durations: number[] = []
for (let i = 1; i <= deploys; i++) {
  const since = Date.now()
  const run = await runAction('drain-and-deploy', {
    inputs: {
      cluster: 'bench',
      service: 'bench-backend',
      'container-name': 'fastapi',
      image: `wwhd-dev-backend:v${i}`,
    },
    env: local.awsEnv(),
  })
  if (run.exitCode !== 0) throw new Error(`deploy ${i} failed: ${run.errors.join('\n')}`)
  durations.push(run.ms)
  callsPerDeploy.push(local.calls.records.filter((r) => r.at >= since && r.service === 'ecs').length)
  const timelines = local.report().timelines
  for (const line of run.lines) {
    const seen = /task ([0-9a-f]+) \([^)]+\): .*→ ([A-Z]+)/.exec(line.text)
    if (!seen) continue
    const [, taskId, status] = seen as unknown as [string, string, string]
    const reached = timelines.find((t) => t.taskId === taskId)?.history.find((h) => h.status === status)
    if (reached) delays.push(line.at - Date.parse(reached.at))
  }
}
const service = (
  await stack.ecs.send(new DescribeServicesCommand({ cluster: 'bench', services: ['bench-backend'] }))
).services?.[0]
stopLongPoll()
await local.stop()
rmSync(stateDir, { recursive: true, force: true })

const sorted = [...delays].sort((a, b) => a - b)
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN
console.log(
  `${deploys} drain-and-deploys of a single-task service, deregistration delay ${delaySeconds}s, stop ${3}s, start ${2}s (simulated runtime, Node ${process.version})`,
)
console.log(`deploy wall time: median ${(median(durations) / 1000).toFixed(1)} s`)
console.log(
  `state changes noticed: ${delays.length}; delay from reached to noticed: median ${(pct(50) / 1000).toFixed(2)} s, p90 ${(pct(90) / 1000).toFixed(2)} s, max ${(pct(100) / 1000).toFixed(2)} s (goal ≤ 2 s)`,
)
console.log(`ECS API calls per deploy: median ${median(callsPerDeploy)} (${callsPerDeploy.join(', ')})`)
console.log(`service ends on ${service?.taskDefinition?.split('/').pop()}, ${service?.runningCount} running`)
// BENCH_RESULTS: where bench/run.mjs collects the figures (bench/results/*.json).
if (process.env.BENCH_RESULTS)
  writeFileSync(
    process.env.BENCH_RESULTS,
    JSON.stringify(
      {
        bench: 'deploy-latency',
        node: process.version,
        deploys,
        deregistrationDelaySeconds: delaySeconds,
        deployWallMs: median(durations),
        stateChanges: delays.length,
        noticedMs: { median: pct(50), p90: pct(90), max: pct(100) },
        ecsCallsPerDeploy: callsPerDeploy,
        ok: pct(100) <= 2000,
      },
      null,
      2,
    ) + '\n',
  )
process.exitCode = pct(100) <= 2000 ? 0 : 1
