import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs'
import {
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { runAction, type RunOptions } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { keepLongPollOpen } from '../support/load-balancer.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSampleStack, waitForSteadyService, type Stack } from '../../examples/sample-backend/stack.ts'

jest.setTimeout(120_000)

/**
 * The deploy scenarios, bundled and run as the runner runs them, on ecs-local's simulated runtime
 * (timed containers that take the lock, no Docker): a missing image, throttling, a timeout, a
 * step killed before it could clean up, a deployment already in progress, and the five ways the
 * promise broke under failure before (the `finding` cases): a cancel while a new task still
 * stops, a crash loop after the first good health check, ECS replacing a failed task during the
 * verification, the wrong first cause, and the monitor's judgement.
 */
const CLUSTER = 'sim-cluster'
const SERVICE = 'sim-backend'
let local: EcsLocal
let stack: Stack
let stateDir = ''

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'ecs-local-sim-'))
  local = await startEcsLocal({
    runtime: 'simulated',
    stateDir,
    // AWS's seconds (health check intervals, deregistration delay, stop timeout) at a fifth.
    timings: { awsSecondsScale: 0.2 },
    simulated: {
      // A client's long poll (below) keeps each draining target busy for its whole delay.
      holdPath: '/stream',
      defaultBehaviour: { takesLock: true, startMs: 200 },
      images: {
        slow: { startMs: 3000, takesLock: true },
        // Turns healthy (two checks 1 s apart), then crashes.
        crashy: { takesLock: true, startMs: 200, crashAfterMs: 3500 },
        crashlate: { takesLock: true, startMs: 200, crashAfterMs: 9000 },
        broken: { takesLock: true, startMs: 200, healthy: false },
        // Ignores SIGTERM: SIGKILLed after its stopTimeout (10 s, 2 s at this scale), exit 137.
        stubborn: { takesLock: true, startMs: 200, stopMs: 60_000 },
      },
    },
  })
  stack = await createSampleStack(local, {
    cluster: CLUSTER,
    service: SERVICE,
    image: 'wwhd-dev-backend:v1',
    jwtSecret: 'sim',
  })
})
afterAll(async () => {
  stopLongPoll?.()
  await local?.stop()
  rmSync(stateDir, { recursive: true, force: true })
})

const run = (action: string, inputs: Record<string, string>, options: RunOptions = {}) =>
  runAction(action, { inputs, timeoutMs: 90_000, ...options, env: { ...local.awsEnv(), ...options.env } })
const deployInputs = { cluster: CLUSTER, service: SERVICE, 'container-name': 'fastapi', 'stable-for': '2s' }
const verifyInputs = { cluster: CLUSTER, service: SERVICE, 'stable-for': '3s', timeout: '60s' }

async function service() {
  return (
    await stack.ecs.send(
      new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE], include: ['TAGS'] }),
    )
  ).services?.[0]
}

function updates(since: number) {
  return local.calls.records.filter((r) => r.at >= since && r.operation === 'UpdateService')
}

function overlapsSince(since: number) {
  return local.report().overlaps.filter((o) => Date.parse(o.to ?? new Date().toISOString()) >= since)
}

const acrossRevisions = (since: number) =>
  overlapsSince(since).filter((o) => new Set(o.tasks.map((t) => t.taskDefinitionArn)).size > 1)

let stopLongPoll: (() => void) | undefined

/**
 * A delay above the stack's 5 s also brings a client whose long poll stays open through the
 * load balancer, so that the drains really last that long (ELB ends an idle target's at once).
 */
async function setDeregistrationDelay(seconds: number) {
  stopLongPoll?.()
  stopLongPoll = seconds > 5 ? keepLongPollOpen(`${stack.url}/stream`) : undefined
  const elb = new ElasticLoadBalancingV2Client({
    endpoint: local.endpoint,
    region: local.region,
    credentials: { accessKeyId: 'AKIASIM', secretAccessKey: 'x' },
  })
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: stack.targetGroupArn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(seconds) }],
    }),
  )
}

/** The healthy revision the service runs now, for the next scenario to start from. */
async function healthyRevision(): Promise<string> {
  await waitForSteadyService(stack.ecs, CLUSTER, SERVICE, 90_000)
  return (await service())?.taskDefinition as string
}

const rev = (arn: string | undefined) => arn?.split('/').pop()

/** A fact of a job summary (its facts table), by label. */
const fact = (summary: string, label: string) =>
  new RegExp(`<th align="left">${label}</th><td><code>([^<]*)</code>`).exec(summary)?.[1]

describe('drain-and-deploy on the simulated runtime', () => {
  it('stops before any change when the image is not in ECR: no drain happens', async () => {
    const since = Date.now()
    const deploy = await run('drain-and-deploy', {
      ...deployInputs,
      image: `${local.registryHost}/wwhd-dev-backend:never-pushed`,
    })
    expect(deploy.exitCode).toBe(1)
    expect(deploy.errors[0]).toMatch(
      /^Image .*wwhd-dev-backend:never-pushed does not exist in ECR \((RepositoryNotFound|ImageNotFound)Exception\)\. Nothing was changed\./,
    )
    expect(updates(since)).toEqual([])
    expect((await service())?.runningCount).toBe(1)
  })

  it('names the wrong input when the cluster or the service does not exist, before any change', async () => {
    const since = Date.now()
    const image = `${local.registryHost}/wwhd-dev-backend:v1`
    const noCluster = await run('drain-and-deploy', { ...deployInputs, cluster: 'no-such-cluster', image })
    expect(noCluster.exitCode).toBe(1)
    expect(noCluster.errors[0]).toMatch(
      new RegExp(
        `^Input 'cluster' "no-such-cluster": there is no such cluster in ${local.region}: expected an ACTIVE cluster`,
      ),
    )
    const noService = await run('drain-and-deploy', { ...deployInputs, service: 'no-such-service', image })
    expect(noService.errors[0]).toMatch(
      new RegExp(
        `^Input 'service' "no-such-service": there is no such service in cluster "?${CLUSTER}"? \\(MISSING\\)`,
      ),
    )
    expect(updates(since)).toEqual([])
  })

  it('deploys through bursts of throttling: adaptive retries and patient waits, no failure', async () => {
    // A burst of 8 "Rate exceeded" answers: fewer than the SDK's 10 attempts, so every call gets through.
    local.faults.set({
      throttleNext: 8,
      operations: ['ecs:DescribeServices', 'ecs:DescribeTasks', 'ecs:ListTasks'],
    })
    const since = Date.now()
    const deploy = await run('drain-and-deploy', { ...deployInputs, image: 'wwhd-dev-backend:v2' })
    local.faults.set({})
    expect(deploy.errors).toEqual([])
    expect(deploy.exitCode).toBe(0)
    const throttled = local.calls.records.filter((r) => r.at >= since && r.error === 'ThrottlingException')
    expect(throttled).toHaveLength(8)
    expect(acrossRevisions(since)).toEqual([])
    // The summary: the plan's facts (from the engine's planned event), the outcome's, and the timeline.
    const next = rev(deploy.outputs['task-definition-arn'])
    expect(fact(deploy.summary, 'Service')).toBe(`${CLUSTER}/${SERVICE}`)
    expect(fact(deploy.summary, 'Previous revision')).toBe(
      rev(deploy.outputs['previous-task-definition-arn']),
    )
    expect(fact(deploy.summary, 'New revision')).toBe(next)
    expect(fact(deploy.summary, 'Strategy')).toBe('drain (single-writer)')
    expect(fact(deploy.summary, 'Deployment')).toBe(deploy.outputs['deployment-id'])
    expect(fact(deploy.summary, 'Start to healthy')).toMatch(/^\d+(\.\d)?m?s$/)
    for (const phase of ['Preflight', 'Drain', 'Start', 'Healthy'])
      expect(deploy.summary).toMatch(new RegExp(`✅ ${phase}\\b`))
  })

  it('times out during a slow drain without starting the old revision beside its draining task; the post step restores it', async () => {
    const before = await healthyRevision()
    await setDeregistrationDelay(100) // 20 s at this scale
    const since = Date.now()
    const deploy = await run('drain-and-deploy', {
      ...deployInputs,
      image: 'wwhd-dev-backend:v3',
      timeout: '10s',
    })
    await setDeregistrationDelay(5)
    expect(deploy.exitCode).toBe(1)
    expect(deploy.ms).toBeLessThan(12_000)
    expect(deploy.errors[0]).toMatch(
      /^Timed out after [89]\.\ds waiting for every task of sim-backend to reach STOPPED\. Last seen: [0-9a-f]+ DEACTIVATING\.\n.*could not be restored within the timeout.*post step finishes the drain and restores it\.\nState now \(read back from ECS\): sim-backend desired 0, running 0, /s,
    )
    expect(deploy.outputs['deployment-id']).toBeUndefined()
    expect(deploy.post?.exitCode).toBe(0)
    expect(deploy.post?.log).toContain(
      `Restored ${SERVICE} to ${rev(before)} at 1 task(s) after every task had STOPPED.`,
    )
    const restore = updates(since).at(-1)
    expect(restore?.at).toBeGreaterThanOrEqual(since + 15_000)
    expect((await service())?.taskDefinition).toBe(before)
    expect(await healthyRevision()).toBe(before)
    expect(overlapsSince(since)).toEqual([])
  })

  it('when the step is killed mid-drain, its post step drains and restores the service', async () => {
    const before = await healthyRevision()
    await setDeregistrationDelay(50) // 10 s at this scale
    const since = Date.now()
    const deploy = await run(
      'drain-and-deploy',
      { ...deployInputs, image: 'wwhd-dev-backend:v4' },
      { killWhen: /→ DEACTIVATING/ },
    )
    await setDeregistrationDelay(5)
    expect(deploy.signal).toBe('SIGKILL')
    expect(deploy.state['restore-point']).toContain(before)
    expect(deploy.post?.exitCode).toBe(0)
    expect(deploy.post?.warnings.join('\n')).toContain(
      `The main step ended before sim-backend was back on ${rev(before)}; restoring it now (every task is drained to STOPPED first).`,
    )
    expect(deploy.post?.log).toContain(
      `Restored ${SERVICE} to ${rev(before)} at 1 task(s) after every task had STOPPED.`,
    )
    expect(deploy.post?.log).toMatch(/State now \(read back from ECS\): sim-backend desired 1, /)
    // The post step's own summary says what it restored, and the state it read back.
    expect(deploy.post?.summary).toContain(
      `drain-and-deploy (restore): restored ${SERVICE} to ${rev(before)} at 1 task(s)`,
    )
    expect(deploy.post?.summary).toMatch(/State after the restore.*sim-backend desired 1, /)
    expect((await service())?.taskDefinition).toBe(before)
    expect(await healthyRevision()).toBe(before)
    expect(overlapsSince(since)).toEqual([])
  })

  it('renders `secrets` into the container as ECS secrets, which ECS resolves when the task starts', async () => {
    const rotated = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:wwhd/jwt-rotated-AbCdEf'
    local.setSecrets({ [rotated]: 'rotated-jwt-secret' })
    const deploy = await run('drain-and-deploy', {
      ...deployInputs,
      image: 'wwhd-dev-backend:v-secrets',
      secrets: `JWT_SECRET=${rotated}`,
      'environment-variables': 'LOG_LEVEL=INFO\nFEATURE_FLAGS=""',
    })
    expect(deploy.errors).toEqual([])
    const { taskDefinition } = await stack.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: deploy.outputs['task-definition-arn'] }),
    )
    const fastapi = taskDefinition?.containerDefinitions?.find((c) => c.name === 'fastapi')
    expect(fastapi?.secrets).toEqual([{ name: 'JWT_SECRET', valueFrom: rotated }])
    expect(fastapi?.environment).toEqual(
      expect.arrayContaining([
        { name: 'LOG_LEVEL', value: 'INFO' },
        { name: 'FEATURE_FLAGS', value: '' },
      ]),
    )
    expect(deploy.log).toContain("with fastapi's image, 2 environment variable(s), 1 secret(s) changed")
  })

  it('a secret ECS cannot read fails the launch before any container runs: ECS may retry, nothing overlaps', async () => {
    const before = await healthyRevision()
    const since = Date.now()
    const deploy = await run('drain-and-deploy', {
      ...deployInputs,
      image: 'wwhd-dev-backend:v-missing-secret',
      secrets: 'JWT_SECRET=arn:aws:secretsmanager:us-east-1:123456789012:secret:wwhd/never-created-AbCdEf',
      timeout: '60s',
    })
    expect(deploy.exitCode).toBe(1)
    expect(deploy.log).toContain('(its containers never ran, so it held no lock; ECS may try again)')
    expect(deploy.errors[0]).toMatch(
      /First cause: task [0-9a-f]+ \(sim-backend:\d+\) stopped: ResourceInitializationError: unable to pull secrets/,
    )
    expect(overlapsSince(since)).toEqual([])
    const rollback = await run('rollback', { cluster: CLUSTER, service: SERVICE, 'stable-for': '2s' })
    expect(rollback.errors).toEqual([])
    expect(rollback.outputs['rolled-back-to']).toBe(before)
  })

  it('waits for a deployment already in progress before touching the service', async () => {
    // Someone else's deployment whose task takes 3 s to start.
    const current = await service()
    await stack.ecs.send(
      new UpdateServiceCommand({
        cluster: CLUSTER,
        service: SERVICE,
        forceNewDeployment: true,
        taskDefinition: current?.taskDefinition,
      }),
    )
    const deploy = await run('drain-and-deploy', { ...deployInputs, image: 'wwhd-dev-backend:v5' })
    expect(deploy.errors).toEqual([])
    expect(deploy.log).toContain('Another deployment is in progress')
    expect(deploy.outputs['task-definition-arn']).toMatch(/sim-backend:\d+$/)
  })
})

describe('the promise under failure (the findings of the fault campaign, one scenario each)', () => {
  it('finding 1: a cancel while the new task still drains restores the old revision only after it has STOPPED', async () => {
    const before = await healthyRevision()
    await setDeregistrationDelay(20) // 4 s at this scale: the new task stays DEACTIVATING that long
    const since = Date.now()
    const deploy = await run(
      'drain-and-deploy',
      { ...deployInputs, image: 'wwhd-dev-backend:v6', 'stable-for': '30s' },
      { cancelWhen: /watching that it stays so/ },
    )
    await setDeregistrationDelay(5)
    expect(deploy.cancelledAt).toBeDefined()
    expect(deploy.errors[0]).toMatch(
      new RegExp(
        `^Cancelled while waiting for the new deployment\\. sim-backend was restored to ${rev(before)} at 1 task\\(s\\) after every task had STOPPED\\.\\nState now \\(read back from ECS\\): sim-backend desired 1, `,
      ),
    )
    expect(deploy.post?.log ?? '').not.toContain('restoring it now')
    expect(await healthyRevision()).toBe(before)
    // The restore came after the new task had STOPPED: nothing of two revisions ever overlapped.
    expect(acrossRevisions(since)).toEqual([])
    expect(overlapsSince(since)).toEqual([])
  })

  it('finding 1b: when the new task drains longer than the runner allows, the post step finishes the restore', async () => {
    const before = await healthyRevision()
    // Every task takes 12 s to let go after it is told to stop: longer than SIGINT → SIGKILL.
    local.faults.set({ slowStopSeconds: 12 })
    const since = Date.now()
    const deploy = await run(
      'drain-and-deploy',
      { ...deployInputs, image: 'wwhd-dev-backend:v7', 'stable-for': '30s' },
      { cancelWhen: /watching that it stays so/ },
    )
    local.faults.set({})
    expect(deploy.errors[0]).toMatch(
      /^Cancelled while waiting for the new deployment\. Every task must be STOPPED before .* post step finishes the drain/s,
    )
    expect(deploy.post?.exitCode).toBe(0)
    expect(deploy.post?.log).toContain(
      `Restored ${SERVICE} to ${rev(before)} at 1 task(s) after every task had STOPPED.`,
    )
    expect(await healthyRevision()).toBe(before)
    expect(overlapsSince(since)).toEqual([])
  })

  it('finding 2: a revision that crashes soon after turning healthy fails the deploy, is not verified, and is rolled back', async () => {
    const good = await healthyRevision()
    const since = Date.now()
    const deploy = await run('drain-and-deploy', {
      ...deployInputs,
      image: 'wwhd-dev-backend:crashy',
      'stable-for': '8s',
    })
    expect(deploy.exitCode).toBe(1)
    expect(deploy.errors[0]).toMatch(
      /^New task [0-9a-f]+ \(sim-backend:\d+\) (stopped|is being stopped \(\w+\)): Essential container in task exited.*after sim-backend:\d+ had turned healthy: not stable\./,
    )
    expect(deploy.errors[0]).toMatch(/scaled to 0/)
    expect(deploy.outputs['deployment-id']).toMatch(/^ecs-svc\//)
    const tags = (await service())?.tags ?? []
    expect(tags.find((t) => t.key === 'ecs-lockstep:verified-task-definition')?.value).not.toBe(
      deploy.outputs['task-definition-arn'],
    )
    const rollback = await run('rollback', { cluster: CLUSTER, service: SERVICE, 'stable-for': '2s' })
    expect(rollback.errors).toEqual([])
    expect(rollback.outputs['rolled-back-to']).toBe(good)
    expect(fact(rollback.summary, 'Rolled back to')).toBe(rev(good))
    expect(fact(rollback.summary, 'Primary revision before')).toBe(rev(deploy.outputs['task-definition-arn']))
    const verify = await run('verify-health', verifyInputs)
    expect(verify.errors).toEqual([])
    expect(acrossRevisions(since)).toEqual([])
    // The crashed task's replacement, if ECS had started one, was stopped with the service.
    expect(overlapsSince(since).length).toBeLessThanOrEqual(1)
  })

  it('finding 3: a task that crashes while verify-health checks fails it, records nothing, and the service is stopped before the replacement runs long', async () => {
    const good = await healthyRevision()
    const since = Date.now()
    const deploy = await run('drain-and-deploy', { ...deployInputs, image: 'wwhd-dev-backend:crashlate' })
    expect(deploy.errors).toEqual([])
    const verify = await run('verify-health', { ...verifyInputs, 'stable-for': '20s' })
    expect(verify.exitCode).toBe(1)
    expect(verify.errors[0]).toMatch(
      /^(New task [0-9a-f]+ \(sim-backend:\d+\) (stopped|is being stopped \(\w+\)): .*while it was being verified\.|Task [0-9a-f]+ of sim-backend:\d+ is being stopped\.|ECS started task)/,
    )
    expect(verify.errors[0]).toContain('is not recorded as verified')
    expect(verify.errors[0]).toContain('scaled to 0')
    expect(verify.errors[0]).toMatch(/State now \(read back from ECS\): sim-backend desired 0, /)
    expect(verify.outputs['verified-task-definition']).toBeUndefined()
    const same = overlapsSince(since)
    expect(acrossRevisions(since)).toEqual([])
    expect(same.length).toBeLessThanOrEqual(1)
    for (const o of same) expect(o.ms).toBeLessThan(5_000)
    const rollback = await run('rollback', { cluster: CLUSTER, service: SERVICE, 'stable-for': '2s' })
    expect(rollback.outputs['rolled-back-to']).toBe(good)
    expect(rollback.errors).toEqual([])
  })

  it('finding 4: the first cause is the new task failing its health checks, not the old task the drain SIGKILLed nor a locked replacement', async () => {
    const stubborn = await run('drain-and-deploy', { ...deployInputs, image: 'wwhd-dev-backend:stubborn' })
    expect(stubborn.errors).toEqual([])
    const since = Date.now()
    const deploy = await run('drain-and-deploy', {
      ...deployInputs,
      image: 'wwhd-dev-backend:broken',
      timeout: '60s',
    })
    expect(deploy.exitCode).toBe(1)
    const cause = /\nFirst cause: (.*)/.exec(deploy.errors[0] ?? '')?.[1] ?? ''
    expect(cause).toMatch(
      /^task [0-9a-f]+ \(sim-backend:\d+\) stopped: Task failed ELB health checks .*; last failing health check: load balancer target group sim-backend on port 8000: Health checks failed with these codes: \[503\]$/,
    )
    expect(cause).toContain(rev(deploy.outputs['task-definition-arn']))
    expect(cause).not.toContain('137')
    expect(deploy.summary).toContain('First cause')
    // The SIGKILLed old task is nowhere among the failures.
    const failures = deploy.log.slice(deploy.log.indexOf('Tasks that failed (oldest first):'))
    expect(failures).not.toContain(`(${rev(stubborn.outputs['task-definition-arn'])})`)
    expect(acrossRevisions(since)).toEqual([])
    const rollback = await run('rollback', { cluster: CLUSTER, service: SERVICE, 'stable-for': '2s' })
    expect(rollback.errors).toEqual([])
    // Back to the last revision verify-health recorded (the stubborn one never was).
    const verified = (await service())?.tags?.find((t) => t.key === 'ecs-lockstep:verified-task-definition')
    expect(rollback.outputs['rolled-back-to']).toBe(verified?.value)
    expect(rollback.outputs['rolled-back-from']).toBe(deploy.outputs['task-definition-arn'])
  })
})
