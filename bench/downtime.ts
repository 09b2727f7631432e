// Downtime, side by side: the seed's script (scale to 0, `services-stable`, new revision, scale to
// 1), the official action's sequence (new revision, `services-stable`) and drain-and-deploy, each
// deploying the same single-task service on the same ecs-local, one deploy at a time, at 0 %/100 %.
// A probe asks the load balancer for /health every 100 ms; downtime runs from the last answer of
// the old revision to the first healthy answer of the new one (fail-open answers do not count).
//
// Usage: node bench/downtime.ts [profile=realistic] [runs=3] [tools=all]
//   profiles: realistic, aws-defaults-scaled (both on the simulated runtime)
//   tools:    names from TOOLS below, separated by commas without a space after them
// BENCH_TRACE=1 prints every deploy's ECS/ELB calls and task states, in seconds from its start.
import {
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  type ECSClient,
} from '@aws-sdk/client-ecs'
import {
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { runAction } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal, type Timings } from '@ecs-lockstep/ecs-local'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parseDuration } from '../packages/core/src/time.ts'
import { createSampleStack, type Stack } from '../examples/sample-backend/stack.ts'

interface Profile {
  description: string
  runtime: 'simulated' | 'docker'
  /** How long the services-stable waiters may wait (the CLI's own limit is 40 × 15 s). */
  waitCapSeconds: number
  timings: Partial<Timings>
  /** The simulated app: start and stop durations. */
  startMs: number
  stopMs: number
  deregistrationDelaySeconds: number
  healthCheckIntervalSeconds: number
}

const PROFILES: Record<string, Profile> = {
  realistic: {
    runtime: 'simulated',
    waitCapSeconds: 600,
    description:
      'stop 5 s, deregistration delay 10 s, provisioning 20 s, app start 10 s, health check every 5 s',
    timings: { provisioningMs: 15_000, pendingMs: 3_000, activatingMs: 2_000, deprovisioningMs: 1_000 },
    startMs: 10_000,
    stopMs: 5_000,
    deregistrationDelaySeconds: 10,
    healthCheckIntervalSeconds: 5,
  },
  'aws-defaults-scaled': {
    runtime: 'simulated',
    waitCapSeconds: 600,
    description:
      'AWS defaults scaled by 1/10: deregistration delay 300 s → 30 s, health check every 30 s → 3 s, stopTimeout 10 s → 1 s',
    timings: { awsSecondsScale: 0.1 },
    startMs: 2_000,
    stopMs: 3_000,
    deregistrationDelaySeconds: 300,
    healthCheckIntervalSeconds: 30,
  },
  'docker-lock': {
    runtime: 'docker',
    // Overlapping tasks die "database is locked" and ECS keeps replacing them: cap the waits.
    waitCapSeconds: 180,
    description:
      'the lock-taking sample on Docker, AWS defaults scaled by 1/10 (deregistration delay 30 s, health check every 3 s)',
    timings: { awsSecondsScale: 0.1 },
    startMs: 0,
    stopMs: 0,
    deregistrationDelaySeconds: 300,
    healthCheckIntervalSeconds: 30,
  },
}

type Tool = (
  context: RunContext,
) => Promise<{ ok: boolean; detail?: string; stableForMs?: number; predictedMs?: number }>

interface RunContext {
  local: EcsLocal
  stack: Stack
  image: string
  profile: Profile
}

const CLUSTER = 'bench'
const SERVICE = 'bench-backend'

/** A new revision of the service's family with the api container on `image`. */
async function registerRevision(ecs: ECSClient, image: string): Promise<string> {
  const service = (await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] })))
    .services?.[0]
  const { DescribeTaskDefinitionCommand } = await import('@aws-sdk/client-ecs')
  const current = (
    await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service?.taskDefinition }))
  ).taskDefinition
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: current?.family,
      networkMode: current?.networkMode,
      requiresCompatibilities: current?.requiresCompatibilities,
      cpu: current?.cpu,
      memory: current?.memory,
      volumes: current?.volumes,
      containerDefinitions: current?.containerDefinitions?.map((c) => ({ ...c, image })),
    }),
  )
  return registered.taskDefinition?.taskDefinitionArn as string
}

/** What `aws ecs wait services-stable` does: DescribeServices every 15 s, 40 times at most. */
async function servicesStable(ecs: ECSClient, profile: Profile): Promise<void> {
  await waitUntilServicesStable(
    { client: ecs, maxWaitTime: profile.waitCapSeconds, minDelay: 15, maxDelay: 15 },
    { cluster: CLUSTER, services: [SERVICE] },
  )
}

const TOOLS: Record<string, Tool> = {
  /** The seed's guide, with the SDK's waiter standing in for `aws ecs wait services-stable`. */
  'seed script (SDK)': async ({ stack, image, profile }) => {
    const ecs = stack.ecs
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, desiredCount: 0 }))
    await servicesStable(ecs, profile)
    const revision = await registerRevision(ecs, image)
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: revision }))
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, desiredCount: 1 }))
    await servicesStable(ecs, profile)
    return { ok: true }
  },
  /** The same sequence with the AWS CLI, when it is installed. */
  'seed script (AWS CLI)': async ({ local, stack, image, profile }) => {
    const run = promisify(execFile)
    const env = { ...process.env, ...local.awsEnv(), AWS_PAGER: '' }
    const aws = (...args: string[]) =>
      run('aws', ['--endpoint-url', local.endpoint, '--region', local.region, 'ecs', ...args], {
        env,
        timeout: (profile.waitCapSeconds + 30) * 1000,
      })
    await aws('update-service', '--cluster', CLUSTER, '--service', SERVICE, '--desired-count', '0')
    await aws('wait', 'services-stable', '--cluster', CLUSTER, '--services', SERVICE)
    const revision = await registerRevision(stack.ecs, image)
    await aws('update-service', '--cluster', CLUSTER, '--service', SERVICE, '--task-definition', revision)
    await aws('update-service', '--cluster', CLUSTER, '--service', SERVICE, '--desired-count', '1')
    await aws('wait', 'services-stable', '--cluster', CLUSTER, '--services', SERVICE)
    return { ok: true }
  },
  /**
   * amazon-ecs-deploy-task-definition with wait-for-service-stability: register, update the service
   * to the new revision, wait for services-stable (its waiter polls every 15 s too).
   */
  'official action (its calls)': async ({ stack, image, profile }) => {
    const ecs = stack.ecs
    const revision = await registerRevision(ecs, image)
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: revision }))
    await servicesStable(ecs, profile)
    return { ok: true }
  },
  'drain-and-deploy': (context) => drainAndDeploy(context, {}),
  'drain-and-deploy, drain-connections-for 2s': (context) =>
    drainAndDeploy(context, { 'drain-connections-for': '2s' }),
}

async function drainAndDeploy(context: RunContext, extra: Record<string, string>) {
  const run = await runAction('drain-and-deploy', {
    inputs: {
      cluster: CLUSTER,
      service: SERVICE,
      'container-name': 'fastapi',
      image: context.image,
      ...extra,
    },
    env: context.local.awsEnv(),
  })
  // "Downtime 44.1s (predicted 46.0s): …", the line after the deploy.
  const said = run.lines
    .map((l) => /^Downtime (\S+(?: \d+s)?) \(predicted (\S+(?: \d+s)?)\)/.exec(l.text))
    .find(Boolean)
  const predictedMs = said ? parseDuration((said[2] as string).replace(' ', '')) : undefined
  return {
    ok: run.exitCode === 0,
    stableForMs: 30_000,
    ...(predictedMs !== undefined ? { predictedMs } : {}),
    ...(run.exitCode === 0 ? {} : { detail: run.errors.join(' | ').slice(0, 300) }),
  }
}

interface Answer {
  at: number
  status: number
  /** The image (simulated runtime) or version (sample backend) that answered. */
  revision?: string
  failOpen: boolean
}

/** Asks the load balancer every 100 ms until stopped; each answer with the image that gave it. */
function probe(url: string): { answers: Answer[]; stop: () => Promise<void> } {
  const answers: Answer[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const at = Date.now()
      try {
        const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })
        // The simulated runtime answers with its image, the sample backend with its version.
        const body = (await response.json().catch(() => ({}))) as { image?: string; version?: string }
        const revision = body.image ?? body.version
        answers.push({
          at,
          status: response.status,
          ...(revision ? { revision } : {}),
          failOpen: response.headers.get('x-ecs-local-routing') === 'fail-open',
        })
      } catch {
        answers.push({ at, status: 0, failOpen: false })
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, at + 100 - Date.now())))
    }
  })()
  return {
    answers,
    stop: async () => {
      running = false
      await loop
    },
  }
}

export interface RunFigures {
  tool: string
  run: number
  /** drain-and-deploy's own prediction, printed in its plan. */
  predictedMs?: number
  ok: boolean
  detail?: string
  downtimeMs: number
  /** The old task's drain + the new task's provisioning, start and first passing check. */
  intrinsicMs: number
  /** The tool's exit minus the moment the new revision first answered healthy (minus its stability window). */
  ownShareMs: number
  stableForMs: number
  wallMs: number
  callsByOperation: Record<string, number>
  ecsCalls: number
  elbCalls: number
  overlaps: number
  longestOverlapMs: number
}

/** One ecs-local and stack per tool; its deploys run one after the other, as a team's would. */
async function measureTool(profile: Profile, name: string, tool: Tool, runs: number): Promise<RunFigures[]> {
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-downtime-'))
  const local = await startEcsLocal({
    runtime: profile.runtime,
    stateDir: join(stateDir, 'ecs-local'),
    timings: profile.timings,
    simulated: { defaultBehaviour: { startMs: profile.startMs, stopMs: profile.stopMs } },
  })
  try {
    // Each deploy's image, and what identifies it in an answer.
    const revisions = Array.from({ length: runs + 1 }, (_, i) => ({
      image: `wwhd-backend:run${i}`,
      id: `wwhd-backend:run${i}`,
    }))
    if (profile.runtime === 'docker') {
      const { pushSampleImages } = await import('../examples/sample-backend/images.ts')
      const uris = await pushSampleImages(
        local,
        join(stateDir, 'docker-config'),
        revisions.map((_, i) => ({ name: `run${i}`, variant: 'good' as const, version: `bench.${i}` })),
      )
      revisions.forEach((r, i) => Object.assign(r, { image: uris[`run${i}`], id: `bench.${i}` }))
    }
    const stack = await createSampleStack(local, {
      cluster: CLUSTER,
      service: SERVICE,
      image: revisions[0]?.image as string,
      jwtSecret: 'bench',
      deregistrationDelaySeconds: profile.deregistrationDelaySeconds,
    })
    const elb = new ElasticLoadBalancingV2Client({
      endpoint: local.endpoint,
      region: local.region,
      credentials: { accessKeyId: 'AKIABENCH', secretAccessKey: 'x' },
    })
    await elb.send(
      new ModifyTargetGroupCommand({
        TargetGroupArn: stack.targetGroupArn,
        HealthCheckIntervalSeconds: profile.healthCheckIntervalSeconds,
      }),
    )
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: stack.targetGroupArn,
        Attributes: [
          { Key: 'deregistration_delay.timeout_seconds', Value: String(profile.deregistrationDelaySeconds) },
        ],
      }),
    )
    const results: RunFigures[] = []
    for (let run = 1; run <= runs; run++) {
      const [before, after] = [revisions[run - 1], revisions[run]] as [Revision, Revision]
      const figures = await measureDeploy(local, stack, profile, tool, before.id, after)
      results.push({ tool: name, run, ...figures })
      print(results.at(-1) as RunFigures)
    }
    return results
  } finally {
    const registryHost = local.registryHost
    await local.stop()
    if (profile.runtime === 'docker') {
      const { untagRegistryImages } = await import('../test/support/images.ts')
      untagRegistryImages(registryHost)
      const { removeSampleContext } = await import('../examples/sample-backend/context.ts')
      removeSampleContext()
    }
    rmSync(stateDir, { recursive: true, force: true })
  }
}

interface Revision {
  image: string
  id: string
}

async function measureDeploy(
  local: EcsLocal,
  stack: Stack,
  profile: Profile,
  tool: Tool,
  oldId: string,
  { image, id: newId }: Revision,
): Promise<Omit<RunFigures, 'tool' | 'run'>> {
  const current = (
    await stack.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] }))
  ).services?.[0]?.taskDefinition
  const watch = probe(stack.url)
  // Steady traffic before the deploy, as a live service has.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const since = Date.now()
  const outcome = await tool({ local, stack, image, profile }).catch((error: unknown) => ({
    ok: false,
    detail: String((error as Error).message).slice(0, 300),
    stableForMs: 0,
    predictedMs: undefined,
  }))
  const exitAt = Date.now()
  // Until the new revision answers healthy, for tools that exit before it does.
  const settleBy = Date.now() + 120_000
  while (Date.now() < settleBy && !watch.answers.some((a) => healthyNew(a, newId))) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await watch.stop()
  const answers = watch.answers
  const lastOld = answers.findLast((a) => a.at < exitAt && a.status === 200 && a.revision === oldId)
  const firstNew = answers.find((a) => healthyNew(a, newId))
  const report = local.report()
  const oldTask = report.timelines.find(
    (t) =>
      t.taskDefinitionArn === current &&
      t.lastStatus === 'STOPPED' &&
      t.history.some((h) => Date.parse(h.at) >= since),
  )
  const newTask = report.timelines.find(
    (t) =>
      t.taskDefinitionArn !== current &&
      Date.parse(t.history[0]?.at ?? '') >= since &&
      t.lastStatus === 'RUNNING',
  )
  const at = (task: typeof oldTask, status: string) =>
    Date.parse(task?.history.find((h) => h.status === status)?.at ?? '')
  const drainMs = at(oldTask, 'STOPPED') - at(oldTask, 'DEACTIVATING')
  const startMs = firstNew ? firstNew.at - at(newTask, 'PROVISIONING') : NaN
  const overlaps = report.overlaps.filter((o) => Date.parse(o.from) >= since)
  const calls = local.calls.records.filter((r) => r.at >= since && r.at <= exitAt)
  const downtimeMs = lastOld && firstNew ? firstNew.at - lastOld.at : NaN
  if (process.env.BENCH_TRACE) {
    const t = (ms: number) => ((ms - since) / 1000).toFixed(2).padStart(6)
    const lines = [
      ...calls.map((r) => ({ at: r.at, text: `call  ${r.operation}` })),
      ...[oldTask, newTask].flatMap((task) =>
        (task?.history ?? []).map((h) => ({
          at: Date.parse(h.at),
          text: `task  ${task?.taskId.slice(0, 8)} ${h.status}`,
        })),
      ),
      ...(lastOld ? [{ at: lastOld.at, text: 'probe last old answer' }] : []),
      ...(firstNew ? [{ at: firstNew.at, text: 'probe first healthy new answer' }] : []),
    ].filter((l) => l.at >= since && l.at <= exitAt + 1000)
    for (const l of lines.sort((a, b) => a.at - b.at)) console.error(`${t(l.at)}  ${l.text}`)
  }
  return {
    ok: outcome.ok && firstNew !== undefined,
    ...(outcome.detail ? { detail: outcome.detail } : {}),
    downtimeMs,
    intrinsicMs: drainMs + startMs,
    ...(outcome.predictedMs !== undefined ? { predictedMs: outcome.predictedMs } : {}),
    ownShareMs: firstNew ? exitAt - firstNew.at - (outcome.stableForMs ?? 0) : NaN,
    stableForMs: outcome.stableForMs ?? 0,
    wallMs: exitAt - since,
    callsByOperation: Object.fromEntries(
      [...new Set(calls.map((r) => r.operation))].map((op) => [
        op,
        calls.filter((r) => r.operation === op).length,
      ]),
    ),
    ecsCalls: calls.filter((r) => r.service === 'ecs').length,
    elbCalls: calls.filter((r) => r.service === 'elasticloadbalancing').length,
    overlaps: overlaps.length,
    longestOverlapMs: Math.max(0, ...overlaps.map((o) => o.ms)),
  }
}

function print(f: RunFigures): void {
  const sec = (ms: number | undefined, digits = 1) =>
    ms === undefined ? '–' : `${(ms / 1000).toFixed(digits)} s`
  console.log(
    `${f.tool} #${f.run}: ${f.ok ? 'ok' : 'FAILED'}; downtime ${sec(f.downtimeMs)} (intrinsic ${sec(f.intrinsicMs)}${f.predictedMs !== undefined ? `, predicted ${sec(f.predictedMs)}` : ''}), own share ${sec(f.ownShareMs, 2)}, wall ${sec(f.wallMs)}, ${f.ecsCalls} ECS + ${f.elbCalls} ELB calls, overlaps ${f.overlaps}${f.overlaps ? ` (longest ${sec(f.longestOverlapMs)})` : ''}${f.detail ? ` — ${f.detail}` : ''}`,
  )
}

function healthyNew(answer: Answer, id: string): boolean {
  return answer.status === 200 && answer.revision === id && !answer.failOpen
}

const profileName = process.argv[2] ?? 'realistic'
const runs = Number(process.argv[3] ?? 3)
const profile = PROFILES[profileName]
if (!profile) throw new Error(`unknown profile ${profileName}; one of ${Object.keys(PROFILES).join(', ')}`)
const haveCli = await promisify(execFile)('aws', ['--version']).then(
  () => true,
  () => false,
)
const chosen =
  (process.argv[4] ?? 'all') === 'all' ? Object.keys(TOOLS) : (process.argv[4] as string).split(/,(?! )/)
const tools = chosen.filter((name) => name !== 'seed script (AWS CLI)' || haveCli)

const results: RunFigures[] = []
for (const name of tools) {
  const tool = TOOLS[name]
  if (!tool) throw new Error(`unknown tool ${name}`)
  results.push(...(await measureTool(profile, name, tool, runs)))
}

/** The issue's goals, checked on this profile's runs. */
function goals(profile: string, all: RunFigures[]): { goal: string; met: boolean; measured: string }[] {
  const plain = all.filter((r) => r.tool === 'drain-and-deploy')
  const short = all.filter((r) => r.tool === 'drain-and-deploy, drain-connections-for 2s')
  const ours = [...plain, ...short]
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const p95 = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.95) - 1] ?? NaN
  const list: { goal: string; met: boolean; measured: string }[] = []
  if (plain.length > 0) {
    const gaps = plain.map((r) => r.downtimeMs - r.intrinsicMs)
    list.push({
      goal: 'downtime within 1.5 s of the intrinsic sum (drain + provisioning + start + first passing check)',
      met: gaps.every((g) => g <= 1500),
      measured: `largest gap ${s(Math.max(...gaps))}`,
    })
  }
  if (ours.length > 0) {
    const share = p95(ours.map((r) => r.ownShareMs))
    list.push({
      goal: "the tool's own share ≤ 1 s at p95",
      met: share <= 1000,
      measured: `p95 ${(share / 1000).toFixed(2)} s`,
    })
    const overlaps = ours.reduce((n, r) => n + r.overlaps, 0)
    list.push({ goal: 'zero overlaps', met: overlaps === 0, measured: `${overlaps}` })
    const error = (r: RunFigures) => Math.abs((r.predictedMs as number) - r.downtimeMs) / r.downtimeMs
    const pct = (x: number) => `${(x * 100).toFixed(0)} %`
    const predicted = ours.filter((r) => r.run > 1 && r.predictedMs !== undefined)
    // A first deploy has no measured deploy to go by: its start comes from the running task, its
    // drain is bounded by the settings (the whole deregistration delay and stop timeout).
    const firsts = ours.filter((r) => r.run === 1 && r.predictedMs !== undefined)
    if (predicted.length > 0) {
      const worst = Math.max(...predicted.map(error))
      list.push({
        goal: 'predicted downtime within 20 % of the measured one (deploys after the first)',
        met: worst <= 0.2,
        measured: `worst ${pct(worst)}${firsts.length ? `; first deploys (drain bounded by the settings): ${firsts.map((r) => `${(r.predictedMs as number) >= r.downtimeMs ? '+' : '−'}${pct(error(r))}`).join(', ')}` : ''}`,
      })
    }
  }
  if (profile === 'realistic' && short.length > 0) {
    const worst = Math.max(...short.map((r) => r.downtimeMs))
    list.push({
      goal: 'with drain-connections-for: 2s, downtime ≤ 39 s',
      met: worst <= 39_000,
      measured: s(worst),
    })
  }
  if (profile === 'realistic' && plain.length > 0) {
    const calls = Math.max(...plain.map((r) => r.ecsCalls))
    list.push({ goal: 'ECS calls per deploy ≤ 68 (half of 137)', met: calls <= 68, measured: `${calls}` })
  }
  return list
}

const checked = goals(profileName, results)
for (const g of checked) console.log(`${g.met ? 'met   ' : 'MISSED'} ${g.goal}: ${g.measured}`)

if (process.env.BENCH_RESULTS) {
  writeFileSync(
    process.env.BENCH_RESULTS,
    JSON.stringify(
      {
        bench: 'downtime',
        node: process.version,
        profile: profileName,
        description: profile.description,
        runs,
        results,
        goals: checked,
      },
      null,
      2,
    ) + '\n',
  )
}

process.exitCode = checked.every((g) => g.met) ? 0 : 1
