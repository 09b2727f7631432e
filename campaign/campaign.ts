#!/usr/bin/env node
// `npm run campaign -- --runs 500 --seed-start 1`: seeded runs of the reference workflow's logic
// (drain-and-deploy → verify-health → rollback when deployment-id is set → verify-health), each
// action bundled and run as the runner runs it (INPUT_*, the post step, SIGINT then SIGTERM 7.5 s
// later then SIGKILL on cancel), against its own ecs-local with random faults. After each run the
// real final state and the invariant monitor's report are checked against the three outcomes the
// suite promises; a failing seed prints the command that replays it.
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs'
import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { runAction, type ActionRun } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal, type SimulatedImageBehaviour } from '@ecs-lockstep/ecs-local'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createSampleStack, type Stack } from '../examples/sample-backend/stack.ts'
import {
  broken,
  describeOverlap,
  judgeOverlaps,
  type FailedAttempt,
  type JudgedOverlap,
} from '../scripts/overlaps.ts'

const CLUSTER = 'campaign'
const SERVICE = 'backend'
/** ECS's seconds (health check interval, deregistration delay, stop timeout) run at this scale. */
const SCALE = 0.2

// ---- scenarios ----

type NewImage = 'good' | 'slow-start' | 'crash-after-healthy' | 'never-healthy' | 'missing'
type OldStop = 'clean' | 'slow' | 'ignores-sigterm'

export interface Scenario {
  seed: number
  newImage: NewImage
  crashAfterMs: number
  oldStop: OldStop
  throttleRate: number
  serverErrorRate: number
  launchFailures: number
  /** The target group's deregistration delay in ECS seconds (× SCALE on ecs-local's clock). */
  deregistrationDelay: number
  timeout: string
  stableFor: string
  cancel?: { step: 'drain-and-deploy' | 'rollback'; afterMs: number }
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function scenario(seed: number): Scenario {
  const r = random(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)] as T
  const newImage = pick([
    'good',
    'good',
    'good',
    'slow-start',
    'crash-after-healthy',
    'crash-after-healthy',
    'never-healthy',
    'missing',
  ] as const)
  const s: Scenario = {
    seed,
    newImage,
    crashAfterMs: 2000 + Math.round(r() * 3000),
    oldStop: pick(['clean', 'clean', 'slow', 'ignores-sigterm'] as const),
    throttleRate: pick([0, 0, 0.1, 0.3]),
    serverErrorRate: pick([0, 0, 0.03]),
    launchFailures: pick([0, 0, 0, 1, 2]),
    deregistrationDelay: pick([2, 5, 10, 30]),
    timeout: pick(['90s', '90s', '90s', '15s']),
    stableFor: pick(['3s', '5s']),
  }
  if (r() < 0.3)
    s.cancel = { step: r() < 0.75 ? 'drain-and-deploy' : 'rollback', afterMs: 300 + Math.round(r() * 14_000) }
  return s
}

// ---- where a run happens ----

/** One run's service on an ecs-local, and what the scenario's new revision is. */
interface RunSetup {
  local: EcsLocal
  stack: Stack
  cluster: string
  service: string
  /** drain-and-deploy's `image` and `environment-variables` for the new revision. */
  image: string
  environment: string
  /** Images the launch must fail to pull (the simulated runtime's "missing" image). */
  missingImages: string[]
  close(): Promise<void>
}

export interface Lab {
  runtime: 'simulated' | 'docker'
  /** Runs at once: each simulated run has its own ecs-local; Docker runs share one engine. */
  concurrency(asked: number): number
  setUp(s: Scenario): Promise<RunSetup>
  shutdown(): Promise<void>
}

const SIMULATED_IMAGES = { old: 'app:old', new: 'app:new' }

function behaviours(s: Scenario): Record<string, SimulatedImageBehaviour> {
  const lock = { takesLock: true, startMs: 200 }
  const old: SimulatedImageBehaviour = {
    ...lock,
    ...(s.oldStop === 'slow' ? { stopMs: 1500 } : s.oldStop === 'ignores-sigterm' ? { stopMs: 600_000 } : {}),
  }
  const fresh: SimulatedImageBehaviour = {
    good: lock,
    missing: lock,
    'slow-start': { ...lock, startMs: 3000 },
    'crash-after-healthy': { ...lock, crashAfterMs: s.crashAfterMs },
    'never-healthy': { ...lock, healthy: false },
  }[s.newImage]
  return { [SIMULATED_IMAGES.old]: old, [SIMULATED_IMAGES.new]: fresh }
}

/** The simulated runtime: an ecs-local of its own per run, containers as timed state machines. */
export const simulatedLab: Lab = {
  runtime: 'simulated',
  concurrency: (asked) => asked,
  async setUp(s) {
    const stateDir = mkdtempSync(join(tmpdir(), `campaign-${s.seed}-`))
    const local = await startEcsLocal({
      runtime: 'simulated',
      registry: false,
      stateDir,
      timings: { awsSecondsScale: SCALE, healthyWithoutChecksMs: 2000 },
      simulated: { images: behaviours(s), defaultBehaviour: { takesLock: true, startMs: 200 } },
    })
    const close = async () => {
      await local.stop().catch(() => undefined)
      rmSync(stateDir, { recursive: true, force: true })
    }
    try {
      const stack = await createSampleStack(local, {
        cluster: CLUSTER,
        service: SERVICE,
        image: SIMULATED_IMAGES.old,
        jwtSecret: 'campaign',
        deregistrationDelaySeconds: s.deregistrationDelay,
      })
      return {
        local,
        stack,
        cluster: CLUSTER,
        service: SERVICE,
        image: SIMULATED_IMAGES.new,
        environment: '',
        missingImages: s.newImage === 'missing' ? [SIMULATED_IMAGES.new] : [],
        close,
      }
    } catch (error) {
      await close()
      throw error
    }
  },
  async shutdown() {},
}

/**
 * The Docker runtime: one ecs-local on the real engine for the whole campaign, the sample backend
 * (whose api and vector store really lock their EFS data) in its registry, a service and volumes of
 * its own per run. The scenario's faults reach the containers as the sample's rehearsal variables.
 */
export function dockerLab(): Lab {
  let shared: Promise<{ local: EcsLocal; image: string; dir: string }> | undefined
  const start = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'campaign-docker-'))
    const local = await startEcsLocal({
      runtime: 'docker',
      stateDir: join(dir, 'ecs-local'),
      timings: { awsSecondsScale: 0.5 },
    })
    const { pushSampleImages } = await import('../examples/sample-backend/images.ts')
    const uris = await pushSampleImages(local, join(dir, 'docker-config'), [
      { name: 'campaign', variant: 'good', version: '1.0.0' },
    ])
    return { local, image: uris.campaign as string, dir }
  }
  return {
    runtime: 'docker',
    concurrency: () => 1,
    async setUp(s) {
      shared ??= start()
      const { local, image } = await shared
      const service = `backend-${s.seed}`
      const stopFault: Record<OldStop, Record<string, string>> = {
        clean: {},
        slow: { SAMPLE_STOP_DELAY_SECONDS: '1.5' },
        'ignores-sigterm': { SAMPLE_STOP_DELAY_SECONDS: 'ignore' },
      }
      const stack = await createSampleStack(local, {
        cluster: CLUSTER,
        service,
        image,
        jwtSecret: 'campaign',
        deregistrationDelaySeconds: s.deregistrationDelay,
        fileSystems: { data: `fs-c${s.seed}data`, database: `fs-c${s.seed}db` },
        environment: stopFault[s.oldStop],
      })
      const fault: Record<NewImage, string> = {
        good: '',
        missing: '',
        'slow-start': 'SAMPLE_START_DELAY_SECONDS=3',
        'crash-after-healthy': `SAMPLE_CRASH_AFTER_SECONDS=${(s.crashAfterMs / 1000).toFixed(1)}`,
        'never-healthy': 'SAMPLE_VARIANT=broken',
      }
      const ecs = new ECSClient({
        endpoint: local.endpoint,
        region: local.region,
        credentials: { accessKeyId: 'AKIACAMPAIGN', secretAccessKey: 'x' },
      })
      return {
        local,
        stack,
        cluster: CLUSTER,
        service,
        // A missing image is refused by drain-and-deploy's ECR check, before anything changes.
        image: s.newImage === 'missing' ? image.replace(/:campaign$/, ':never-pushed') : image,
        environment: [`APP_VERSION=seed-${s.seed}`, fault[s.newImage]].filter(Boolean).join('\n'),
        missingImages: [],
        // Its containers go; its volumes are its own, so what is still stopping meets no other run.
        close: async () => {
          await ecs
            .send(new UpdateServiceCommand({ cluster: CLUSTER, service, desiredCount: 0 }))
            .catch(() => undefined)
        },
      }
    },
    async shutdown() {
      if (!shared) return
      const { local, dir } = await shared
      const { untagRegistryImages } = await import('../test/support/images.ts')
      untagRegistryImages(local.registryHost)
      const { removeSampleContext } = await import('../examples/sample-backend/context.ts')
      removeSampleContext()
      await local.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

// ---- one run ----

export type Outcome = 'deployed' | 'rolled-back' | 'unchanged' | 'cancelled-restored' | 'failed-state-named'

export interface RunResult {
  seed: number
  scenario: Scenario
  ok: boolean
  outcome?: Outcome
  problems: string[]
  overlaps: JudgedOverlap[]
  steps: {
    action: string
    exitCode: number | null
    cancelled: boolean
    ms: number
    error?: string
    /** The last "State now (read back from ECS): …" the step printed. */
    state?: string
  }[]
  ms: number
}

interface FinalState {
  revision: string | undefined
  desired: number
  running: number
  deployments: number
  alive: number
  /** A request through the load balancer answered 200. */
  serving: boolean
}

async function readFinal(
  run: RunSetup,
  ecs: ECSClient,
  elb: ElasticLoadBalancingV2Client,
): Promise<FinalState> {
  const { cluster, service: name, stack } = run
  const service = (await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }))).services?.[0]
  const arns = [
    ...((await ecs.send(new ListTasksCommand({ cluster, serviceName: name }))).taskArns ?? []),
    ...((await ecs.send(new ListTasksCommand({ cluster, serviceName: name, desiredStatus: 'STOPPED' })))
      .taskArns ?? []),
  ]
  const tasks = arns.length
    ? ((await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }))).tasks ?? [])
    : []
  const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: stack.targetGroupArn }))
  let serving = false
  if ((health.TargetHealthDescriptions ?? []).some((t) => t.TargetHealth?.State === 'healthy')) {
    const listener = (
      await elb.send(new DescribeListenersCommand({ LoadBalancerArn: stack.loadBalancerArn }))
    ).Listeners?.[0]
    try {
      const answer = await fetch(`http://127.0.0.1:${listener?.Port}/health`, {
        signal: AbortSignal.timeout(3000),
      })
      serving = answer.status === 200
      await answer.arrayBuffer()
    } catch {
      serving = false
    }
  }
  return {
    revision: service?.taskDefinition,
    desired: service?.desiredCount ?? 0,
    running: service?.runningCount ?? 0,
    deployments: service?.deployments?.length ?? 0,
    alive: tasks.filter((t) => t.lastStatus !== 'STOPPED').length,
    serving,
  }
}

const healthyOn = (f: FinalState, revision: string | undefined) =>
  f.revision === revision &&
  f.desired === 1 &&
  f.running === 1 &&
  f.deployments === 1 &&
  f.alive === 1 &&
  f.serving

const settledAt = (f: FinalState) =>
  (f.desired === 0 && f.alive === 0) ||
  (f.deployments === 1 && f.running === f.desired && f.alive === f.desired && f.serving)

/** The last "State now (read back from ECS): …" a failed step printed: the state it says it left. */
function claimedState(error: string | undefined): { desired: number; primary: string } | undefined {
  const line = /State now \(read back from ECS\): \S+ desired (\d+), .*?deployments: (?:PRIMARY (\S+))?/.exec(
    error ?? '',
  )
  return line ? { desired: Number(line[1]), primary: line[2] ?? '' } : undefined
}

export async function runSeed(seed: number, options: { logs?: string; lab?: Lab } = {}): Promise<RunResult> {
  const s = scenario(seed)
  const started = Date.now()
  const result: RunResult = { seed, scenario: s, ok: false, problems: [], overlaps: [], steps: [], ms: 0 }
  let run: RunSetup | undefined
  try {
    run = await (options.lab ?? simulatedLab).setUp(s)
    const { local, stack, cluster: CLUSTER, service: SERVICE } = run
    const config = {
      endpoint: local.endpoint,
      region: local.region,
      credentials: { accessKeyId: 'AKIACAMPAIGN', secretAccessKey: 'x' },
    }
    const ecs = new ECSClient(config)
    const elb = new ElasticLoadBalancingV2Client(config)
    const oldRevision = stack.taskDefinitionArn
    local.faults.set({
      ...(s.throttleRate ? { throttleRate: s.throttleRate } : {}),
      ...(s.serverErrorRate ? { serverErrorRate: s.serverErrorRate } : {}),
      ...(s.launchFailures ? { launchFailures: s.launchFailures } : {}),
      ...(run.missingImages.length ? { missingImages: run.missingImages } : {}),
      // The actions' calls only: the campaign's own reads must see the truth.
      operations: [
        'ecs:DescribeServices',
        'ecs:DescribeTasks',
        'ecs:ListTasks',
        'ecs:UpdateService',
        'elasticloadbalancing:DescribeTargetHealth',
      ],
    })

    const env = local.awsEnv()
    const failed: FailedAttempt[] = []
    let cancelled = false
    const step = async (action: string, inputs: Record<string, string>): Promise<ActionRun> => {
      const at = Date.now()
      const cancelAfterMs = s.cancel?.step === action ? s.cancel.afterMs : undefined
      const run = await runAction(action, {
        inputs,
        env,
        timeoutMs: 5 * 60_000,
        ...(cancelAfterMs !== undefined ? { cancelAfterMs } : {}),
      })
      if (options.logs) {
        const { appendFileSync, mkdirSync } = await import('node:fs')
        mkdirSync(options.logs, { recursive: true })
        const lines = [...run.lines, ...(run.post?.lines ?? [])]
          .map((l) => `${new Date(l.at).toISOString().slice(11, 23)} ${l.text}`)
          .join('\n')
        appendFileSync(join(options.logs, `seed-${seed}.log`), `==== ${action}\n${lines}\n`)
      }
      const wasCancelled = run.cancelledAt !== undefined
      cancelled ||= wasCancelled
      if (run.exitCode !== 0 || (run.post && run.post.exitCode !== 0))
        failed.push({ name: action, from: at, to: Date.now() })
      // The state the step says it left: the last one it read back, from the post step when that
      // finished a restore.
      const said = `${run.log}\n${run.post?.log ?? ''}`.match(/State now \(read back from ECS\): .*/g)
      result.steps.push({
        action,
        exitCode: run.exitCode,
        cancelled: wasCancelled,
        ms: Date.now() - at,
        ...(run.errors[0] ? { error: run.errors[0] } : {}),
        ...(said ? { state: said.at(-1) as string } : {}),
      })
      if (run.post?.errors[0])
        result.steps.push({
          action: `${action} (post)`,
          exitCode: run.post.exitCode,
          cancelled: false,
          ms: run.post.ms,
          error: run.post.errors[0],
        })
      for (const line of run.unmasked.split('\n')) {
        if (/^::(set-output|add-mask|stop-commands)/.test(line))
          result.problems.push(`${action} printed a workflow command it should not: ${line.slice(0, 120)}`)
      }
      return run
    }

    // The reference workflow's logic, as deploy-backend.yml chains it.
    const deployInputs = {
      cluster: CLUSTER,
      service: SERVICE,
      'container-name': 'fastapi',
      image: run.image,
      ...(run.environment ? { 'environment-variables': run.environment } : {}),
      timeout: s.timeout,
      'stable-for': s.stableFor,
    }
    const verifyInputs = { cluster: CLUSTER, service: SERVICE, 'stable-for': '3s', timeout: '60s' }
    const deploy = await step('drain-and-deploy', deployInputs)
    let verified = false
    let rollback: ActionRun | undefined
    let rollbackVerified = false
    if (!cancelled && deploy.exitCode === 0)
      verified = (await step('verify-health', verifyInputs)).exitCode === 0
    const deploymentStarted = Boolean(deploy.outputs['deployment-id'])
    if (!cancelled && !verified && deploymentStarted) {
      rollback = await step('rollback', {
        cluster: CLUSTER,
        service: SERVICE,
        reason: `campaign seed ${seed}`,
        'stable-for': '2s',
      })
      if (!cancelled && rollback.exitCode === 0)
        rollbackVerified = (await step('verify-health', verifyInputs)).exitCode === 0
    }
    local.faults.set({})

    // The end state, once ECS has settled (a restore starts tasks it does not wait for).
    const endedAt = Date.now()
    let final = await readFinal(run, ecs, elb)
    for (let i = 0; i < 60 && !settledAt(final); i++) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      final = await readFinal(run, ecs, elb)
    }
    const newRevision = deploy.outputs['task-definition-arn']
    const lastFailure = [...result.steps].reverse().find((x) => x.error)
    if (!cancelled && deploy.exitCode === 0 && verified) {
      result.outcome = 'deployed'
      if (!healthyOn(final, newRevision))
        result.problems.push(`reported deployed and verified, but the service is ${JSON.stringify(final)}`)
    } else if (deploy.exitCode === 0 && cancelled && !rollback && healthyOn(final, newRevision)) {
      // Cancelled after drain-and-deploy had finished: it proved the revision healthy and stable itself.
      result.outcome = 'deployed'
    } else if (rollback && rollback.exitCode === 0 && rollbackVerified) {
      result.outcome = 'rolled-back'
      if (!healthyOn(final, rollback.outputs['rolled-back-to']))
        result.problems.push(`rolled back and verified, but the service is ${JSON.stringify(final)}`)
    } else if (cancelled && healthyOn(final, oldRevision)) {
      result.outcome = 'cancelled-restored'
    } else if (!deploymentStarted && !cancelled && healthyOn(final, oldRevision)) {
      result.outcome = 'unchanged'
    } else {
      result.outcome = 'failed-state-named'
      const claim = claimedState(lastFailure?.state ?? lastFailure?.error)
      if (!claim)
        result.problems.push(
          `ended neither healthy nor with the state named: last error ${JSON.stringify(lastFailure?.error?.slice(0, 300) ?? 'none')}`,
        )
      else if (
        claim.desired !== final.desired ||
        (claim.primary && !final.revision?.endsWith(`/${claim.primary}`))
      )
        result.problems.push(
          `the message says desired ${claim.desired} on ${claim.primary}, but ECS has desired ${final.desired} on ${final.revision?.split('/').pop()}`,
        )
    }

    // A shared ecs-local (Docker) holds other runs' services too.
    const mine = local.report().overlaps.filter((o) => o.tasks.some((t) => t.service === SERVICE))
    result.overlaps = judgeOverlaps(mine, failed)
    for (const bad of broken(result.overlaps)) result.problems.push(describeOverlap(bad))
    void endedAt
  } catch (error) {
    result.problems.push(`the run could not go on: ${(error as Error).stack ?? String(error)}`)
  } finally {
    run?.local.faults.set({})
    await run?.close()
  }
  result.ok = result.problems.length === 0
  result.ms = Date.now() - started
  return result
}

// ---- many runs ----

export interface CampaignReport {
  runs: number
  failed: number[]
  outcomes: Record<string, number>
  overlaps: Record<string, number>
  /** The longest overlap of a failed task and ECS's replacement, in ms. */
  longestReplacementMs: number
  averageRunMs: number
  results: RunResult[]
}

export async function runCampaign(
  seeds: number[],
  options: { concurrency: number; lab?: Lab; logs?: string; onResult?: (r: RunResult) => void },
): Promise<CampaignReport> {
  const lab = options.lab ?? simulatedLab
  const results: RunResult[] = []
  let next = 0
  try {
    await Promise.all(
      Array.from({ length: Math.min(lab.concurrency(options.concurrency), seeds.length) }, async () => {
        while (next < seeds.length) {
          const seed = seeds[next++] as number
          const r = await runSeed(seed, { lab, ...(options.logs ? { logs: options.logs } : {}) })
          results.push(r)
          options.onResult?.(r)
        }
      }),
    )
  } finally {
    await lab.shutdown()
  }
  results.sort((a, b) => a.seed - b.seed)
  const count = (values: string[]) =>
    values.reduce<Record<string, number>>((m, v) => ({ ...m, [v]: (m[v] ?? 0) + 1 }), {})
  const replacements = results.flatMap((r) =>
    r.overlaps.filter((o) => o.kind === 'replacement-in-failing-attempt'),
  )
  return {
    runs: results.length,
    failed: results.filter((r) => !r.ok).map((r) => r.seed),
    outcomes: count(results.map((r) => r.outcome ?? 'none')),
    overlaps: {
      'across-revisions': 0,
      'outside-a-failing-attempt': 0,
      'replacement-in-failing-attempt': 0,
      ...count(results.flatMap((r) => r.overlaps.map((o) => o.kind))),
    },
    longestReplacementMs: Math.max(0, ...replacements.map((o) => o.overlap.ms)),
    averageRunMs: Math.round(results.reduce((sum, r) => sum + r.ms, 0) / Math.max(1, results.length)),
    results,
  }
}

function describeScenario(s: Scenario): string {
  return [
    `new=${s.newImage}${s.newImage === 'crash-after-healthy' ? `(${s.crashAfterMs}ms)` : ''}`,
    `old-stop=${s.oldStop}`,
    s.throttleRate ? `throttle=${s.throttleRate}` : '',
    s.serverErrorRate ? `5xx=${s.serverErrorRate}` : '',
    s.launchFailures ? `launch-failures=${s.launchFailures}` : '',
    `dereg=${s.deregistrationDelay}s`,
    `timeout=${s.timeout}`,
    s.cancel ? `cancel=${s.cancel.step}@${s.cancel.afterMs}ms` : '',
  ]
    .filter(Boolean)
    .join(' ')
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '50' },
      'seed-start': { type: 'string', default: '1' },
      seed: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      json: { type: 'string' },
      logs: { type: 'string' },
      runtime: { type: 'string', default: 'simulated' },
    },
  })
  const seeds = values.seed
    ? [Number(values.seed)]
    : Array.from({ length: Number(values.runs) }, (_, i) => Number(values['seed-start']) + i)
  const began = Date.now()
  if (values.runtime !== 'simulated' && values.runtime !== 'docker') {
    console.error(`--runtime must be simulated or docker, not ${values.runtime}`)
    process.exit(2)
  }
  const report = await runCampaign(seeds, {
    concurrency: Number(values.concurrency),
    lab: values.runtime === 'docker' ? dockerLab() : simulatedLab,
    ...(values.logs ? { logs: values.logs } : {}),
    onResult: (r) => {
      const mark = r.ok ? '✔' : '✘'
      console.log(
        `${mark} seed ${String(r.seed).padStart(4)} ${(r.ms / 1000).toFixed(1).padStart(5)}s ${(r.outcome ?? '').padEnd(20)} ${describeScenario(r.scenario)}`,
      )
      for (const p of r.problems) console.log(`    ${p}`)
      for (const o of r.overlaps) console.log(`    overlap: ${describeOverlap(o)}`)
      if (!r.ok)
        for (const st of r.steps)
          console.log(
            `    ${st.action}: exit ${st.exitCode}${st.cancelled ? ' (cancelled)' : ''} ${st.error?.split('\n').join(' | ').slice(0, 600) ?? ''}`,
          )
    },
  })
  console.log(
    `\n${report.runs} runs in ${((Date.now() - began) / 1000).toFixed(0)}s (average ${(report.averageRunMs / 1000).toFixed(1)}s a run): ` +
      `${JSON.stringify(report.outcomes)}; overlaps ${JSON.stringify(report.overlaps)}, longest replacement overlap ${report.longestReplacementMs} ms.`,
  )
  if (values.json) {
    const { writeFileSync } = await import('node:fs')
    writeFileSync(
      values.json,
      JSON.stringify(
        { ...report, results: report.results.map(({ steps, ...r }) => ({ ...r, steps: steps.length })) },
        null,
        2,
      ),
    )
  }
  if (report.failed.length) {
    console.log(`\n${report.failed.length} run(s) broke the promise. Replay one with:`)
    for (const seed of report.failed) console.log(`  npm run campaign -- --seed ${seed}`)
    process.exitCode = 1
  } else console.log('Every run ended as the suite promises.')
}
