import { afterAll, afterEach, describe, expect, it } from '@jest/globals'
import { createClients, deploy, type DeployEvent, type DeployRequest } from '@ecs-lockstep/ecs-deploy'
import { restoreAfterInterruption } from '@ecs-lockstep/ecs-deploy/after-kill'
import { reportingEngine } from '../../actions/shared/deploying.ts'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { asInputError, RequestError, type Cancellation } from '@ecs-lockstep/core'
import { inputs } from '../../actions/drain-and-deploy/src/inputs.ts'
import { testContext } from '../support/action-context.ts'
import type { Task } from '@aws-sdk/client-ecs'
import { DescribeImagesCommand } from '@aws-sdk/client-ecr'
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  ACCOUNT,
  CLUSTER,
  ECR_HOST,
  REGION,
  ScriptedEcs,
  SERVICE,
  tdArn,
  type ScriptOptions,
} from '../support/scripted-ecs.ts'

const FAST = { minMs: 10, maxMs: 20, factor: 1.25 }

/** Temp directories the tests make, removed at the end. */
const cleanups: string[] = []
afterAll(() => {
  for (const dir of cleanups) rmSync(dir, { recursive: true, force: true })
})
let ecs: ScriptedEcs | undefined
let release: (() => void) | undefined

afterEach(() => {
  release?.()
  ecs?.restore()
})

function scripted(options: Partial<ScriptOptions> = {}): ScriptedEcs {
  ecs = new ScriptedEcs({ revisions: [40, 41], currentRevision: 41, runningTasks: 1, efs: true, ...options })
  return ecs
}

function request(overrides: Partial<DeployRequest> = {}): DeployRequest {
  return {
    ref: { cluster: CLUSTER, service: SERVICE },
    region: REGION,
    definition: {
      kind: 'render',
      containerName: 'api',
      image: `${ECR_HOST}/wwhd-dev-backend:new`,
      environment: {},
    },
    desiredCount: 1,
    strategy: 'drain',
    singleWriter: 'auto',
    waitFor: 'healthy',
    stableForMs: 0,
    deadline: Date.now() + 10_000,
    ifDeploymentInProgress: 'wait',
    purpose: 'deploy',
    poll: FAST,
    ...overrides,
  }
}

async function run(
  overrides: Partial<DeployRequest> = {},
  signal?: AbortSignal,
  cancellation?: Cancellation,
) {
  const test = testContext(signal, cancellation)
  release = test.release
  try {
    // The engine's events reach the test's action context as they reach drain-and-deploy's.
    const engine = reportingEngine(test.ctx, {
      previous: 'previous-task-definition-arn',
      next: 'task-definition-arn',
      deployment: 'deployment-id',
    })
    const outcome = await deploy(engine, createClients(REGION), request(overrides))
    return { outcome, error: undefined, engineError: undefined, ...test }
  } catch (error) {
    // The engine names the request's field; drain-and-deploy names its input, as here.
    const named = asInputError(error, inputs) as Error & { hint?: string }
    return { outcome: undefined, error: named, engineError: error, ...test }
  }
}

/** What RegisterTaskDefinition refuses must never be sent. */
function expectNoReadOnlyFields(registered: Record<string, unknown>): void {
  for (const field of [
    'taskDefinitionArn',
    'revision',
    'status',
    'requiresAttributes',
    'compatibilities',
    'registeredAt',
  ]) {
    expect(registered).not.toHaveProperty(field)
  }
}

describe('deploy with the drain strategy, against scripted ECS timelines', () => {
  it('waits while the old task lingers in DEACTIVATING then STOPPING with runningCount already 0; starts the new revision only after STOPPED', async () => {
    const fake = scripted({
      stop: { deactivatingMs: 150, stoppingMs: 100 },
      ecrImages: ['wwhd-dev-backend:new'],
    })
    const { outcome, error, log } = await run()
    expect(error).toBeUndefined()
    const oldTask = [...fake.tasks.values()].find((t) => t.taskDefinitionArn === tdArn(41)) as {
      stoppedAt: Date
    }
    const deployCall = fake.callsTo('UpdateService').find((c) => c.input.taskDefinition)
    expect(deployCall).toBeDefined()
    // The new revision is sent only once the old task is STOPPED, not when it left RUNNING.
    expect(fake.started + (deployCall?.at ?? 0)).toBeGreaterThanOrEqual(oldTask.stoppedAt.getTime())
    expect(outcome?.taskDefinitionArn).toBe(tdArn(42))
    expect(outcome?.previousTaskDefinitionArn).toBe(tdArn(41))
    expect(outcome?.drainMs).toBeGreaterThanOrEqual(240)
    expect(outcome?.downtimeMs).toBeGreaterThanOrEqual(outcome?.drainMs ?? 0)
    expect(outcome?.taskArns).toHaveLength(1)
    // Each state change is logged once, however many polls saw it.
    expect(
      log().match(/RUNNING \(desired STOPPED\) → DEACTIVATING|RUNNING → DEACTIVATING/g)?.length ?? 0,
    ).toBe(1)
    expect(log().match(/→ STOPPING/g)).toHaveLength(1)
    expect(log().match(/→ STOPPED/g)).toHaveLength(1)
    expect(fake.tags['ecs-lockstep:previous-task-definition']).toBe(tdArn(41))
  })

  it('registers the rendered definition without read-only fields and with the new image', async () => {
    const fake = scripted({ ecrImages: ['wwhd-dev-backend:new'] })
    const { error } = await run({
      definition: {
        kind: 'render',
        containerName: 'api',
        image: `${ECR_HOST}/wwhd-dev-backend:new`,
        environment: { LOG_LEVEL: 'DEBUG' },
      },
    })
    expect(error).toBeUndefined()
    const registered = fake.callsTo('RegisterTaskDefinition')[0]?.input as Record<string, unknown> & {
      containerDefinitions: { name: string; image: string; environment?: { name: string; value: string }[] }[]
    }
    expectNoReadOnlyFields(registered)
    expect(registered.containerDefinitions[0]?.image).toBe(`${ECR_HOST}/wwhd-dev-backend:new`)
    expect(registered.containerDefinitions[0]?.environment).toEqual([{ name: 'LOG_LEVEL', value: 'DEBUG' }])
    expect(registered.containerDefinitions[1]?.image).toBe('qdrant/qdrant:latest')
  })

  it('reports a circuit-breaker rollback as a failure, with the events and the failed tasks', async () => {
    // Without EFS the service is not single-writer: ECS's own retries run their course.
    scripted({
      efs: false,
      circuitBreaker: { enable: true, rollback: true },
      launch: { 42: { pendingMs: 5, runningMs: 5, crashAfterMs: 5 } },
    })
    const { error, ctx, outputs } = await run({
      definition: { kind: 'render', containerName: 'api', environment: { BROKEN: '1' } },
    })
    // Set before the failure, so that a workflow knows the service was changed and rolls back.
    expect(outputs['deployment-id']).toMatch(/^ecs-svc\/\d{19}$/)
    expect(outputs['previous-task-definition-arn']).toBe(tdArn(41))
    expect(error?.message).toMatch(
      /^ECS's deployment circuit breaker failed deployment ecs-svc\/\d+ and rolled the service back to wwhd-backend:41/,
    )
    expect(error?.message).toMatch(
      /\nFirst cause: task [0-9a-f]{32} \(wwhd-backend:42\) stopped: Essential container in task exited/,
    )
    expect(error?.message).toMatch(/\nState now \(read back from ECS\): wwhd-backend desired 1, /)
    expect(error?.hint).toContain('Run the rollback action')
    const summary = ctx.report.toMarkdown({ ok: false })
    expect(summary).toContain('Tasks that failed')
    expect(summary).toContain('api: exit 1 (Error: database is locked)')
    expect(summary).toContain('deployment failed: tasks failed to start.')
  })

  it('fails a crash-looping revision at the failure threshold when the circuit breaker is off, with CloudWatch logs', async () => {
    const fake = scripted({
      efs: false,
      launch: { 42: { pendingMs: 5, runningMs: 5, crashAfterMs: 10, crashReason: 'exit 1: RuntimeError' } },
    })
    const { error, ctx } = await run({
      definition: { kind: 'render', containerName: 'api', environment: { BROKEN: '1' } },
    })
    expect(error?.message).toMatch(
      /^3 tasks of wwhd-backend:42 stopped during the deployment; ECS would keep replacing them forever/,
    )
    expect(fake.callsTo('GetLogEvents').length).toBeGreaterThan(0)
    expect(fake.callsTo('GetLogEvents')[0]?.input.logStreamName).toMatch(/^fastapi\/api\/[0-9a-f]{32}$/)
    const summary = ctx.report.toMarkdown({ ok: false })
    expect(summary).toContain('First cause: last 50 log lines of api in task')
    expect(summary).toContain('sqlite3.OperationalError: database is locked')
  })

  it("single-writer: the first new task that ran and stopped ends the attempt; the service is scaled to 0 and ECS's replacement stopped", async () => {
    const fake = scripted({
      circuitBreaker: { enable: true, rollback: false },
      launch: { 42: { pendingMs: 5, runningMs: 5, crashAfterMs: 20, crashReason: 'exit 1: RuntimeError' } },
    })
    const { error, outputs } = await run({
      definition: { kind: 'render', containerName: 'api', environment: { BROKEN: '1' } },
    })
    expect(outputs['deployment-id']).toMatch(/^ecs-svc\//)
    expect(error?.message).toMatch(
      /^New task ([0-9a-f]{32}) \(wwhd-backend:42\) stopped: Essential container in task exited \[EssentialContainerExited\] — api: exit 1 \(exit 1: RuntimeError\); qdrant: exit 0\. On a single-writer service the first failed task ends the attempt/,
    )
    const failed = /^New task ([0-9a-f]{32})/.exec(error?.message ?? '')?.[1]
    // ECS had started the replacement at once; scaling to 0 stopped it before it ran.
    const replacement = [...fake.tasks.values()].find(
      (t) => t.taskDefinitionArn === tdArn(42) && !t.taskArn?.endsWith(failed ?? '-'),
    )
    expect(replacement?.startedAt).toBeUndefined()
    expect(error?.message).toContain(
      `was scaled to 0 and every task is STOPPED (including ECS's replacement task(s) ${replacement?.taskArn?.split('/').pop()}`,
    )
    expect(error?.message).toContain(`First cause: task ${failed} (wwhd-backend:42) stopped`)
    expect(error?.message).toMatch(
      /State now \(read back from ECS\): wwhd-backend desired 0, running 0, .*tasks not STOPPED: none\.$/,
    )
    expect(fake.callsTo('UpdateService').map((c) => [c.input.taskDefinition, c.input.desiredCount])).toEqual([
      [undefined, 0],
      [tdArn(42), 1],
      [undefined, 0],
    ])
    expect(fake.tasks.size).toBe(3) // the old one, the failed one, its one replacement: no crash loop
    expect([...fake.tasks.values()].every((t) => t.lastStatus === 'STOPPED')).toBe(true)
  })

  it('wait-for healthy holds only once the revision stayed healthy for stable-for: a crash soon after is a failure', async () => {
    const fake = scripted({
      efs: false,
      launch: { 42: { pendingMs: 5, runningMs: 5, crashAfterMs: 150, healthyBeforeCrash: true } },
      ecrImages: ['wwhd-dev-backend:new'],
    })
    const { error, log } = await run({ stableForMs: 1000 })
    expect(log()).toContain('healthy; watching that it stays so for 1.0s (stable-for)')
    expect(error?.message).toMatch(
      /^New task [0-9a-f]{32} \(wwhd-backend:42\) stopped: Essential container in task exited .*, (?:\d+ms|1\.\ds) after wwhd-backend:42 had turned healthy: not stable\./,
    )
    expect(fake.tags['ecs-lockstep:verified-task-definition']).toBeUndefined()
  })

  it('a revision that stays healthy passes after stable-for, and no sooner', async () => {
    scripted({
      efs: false,
      launch: { 42: { pendingMs: 5, runningMs: 5 } },
      ecrImages: ['wwhd-dev-backend:new'],
    })
    const started = Date.now()
    const { error, outcome } = await run({ stableForMs: 600 })
    expect(error).toBeUndefined()
    expect(Date.now() - started).toBeGreaterThanOrEqual(600)
    // Downtime ends when the revision turned healthy, not when the watch ended.
    expect(outcome?.startMs).toBeLessThan(500)
  })

  it('stops before any change when the new image is not in ECR', async () => {
    const fake = scripted({ ecrImages: ['wwhd-dev-backend:rev41'] })
    const { error, outputs } = await run()
    expect(outputs).toEqual({})
    expect(error?.message).toBe(
      `Image ${ECR_HOST}/wwhd-dev-backend:new does not exist in ECR (ImageNotFoundException). Nothing was changed.`,
    )
    expect(fake.callsTo('UpdateService')).toEqual([])
    expect(fake.callsTo('RegisterTaskDefinition')).toEqual([])
  })

  it('refuses two tasks or a rolling update of an EFS service before any change', async () => {
    const fake = scripted()
    const two = await run({ desiredCount: 2 })
    expect(two.engineError).toBeInstanceOf(RequestError)
    expect(two.engineError).toMatchObject({ field: 'desiredCount', value: '2' })
    expect(two.error?.message).toMatch(
      /^Input 'desired-count' "2": the task definition mounts EFS volume\(s\) database \(fs-0421d6926b3c7056d\)/,
    )
    release?.()
    const rolling = await run({ strategy: 'rolling' })
    expect(rolling.error?.message).toMatch(
      /^Input 'strategy' "rolling": the task definition mounts EFS volume\(s\)/,
    )
    expect(rolling.error?.message).toContain('expected drain')
    expect(fake.callsTo('UpdateService')).toEqual([])
  })

  it('allows a rolling update of a service without EFS', async () => {
    const fake = scripted({ efs: false, ecrImages: ['wwhd-dev-backend:new'] })
    const { error, outcome } = await run({ strategy: 'rolling' })
    expect(error).toBeUndefined()
    expect(outcome?.drainMs).toBe(0)
    expect(fake.callsTo('UpdateService').map((c) => c.input.desiredCount)).toEqual([1])
  })

  it('lists the service once more before calling the volume free: a task that shows up late keeps the drain waiting', async () => {
    const fake = scripted({
      stop: { deactivatingMs: 50, stoppingMs: 50 },
      ecrImages: ['wwhd-dev-backend:new'],
    })
    // A task ECS was starting as the service scaled down, absent from the preflight's listing: it
    // appears once the drain has begun, already told to stop, and takes 600 ms more to get there.
    const straggler: Task = {
      taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${CLUSTER}/${'5'.repeat(32)}`,
      taskDefinitionArn: tdArn(41),
      group: `service:${SERVICE}`,
      lastStatus: 'STOPPING',
      desiredStatus: 'STOPPED',
      containers: [{ name: 'api', lastStatus: 'RUNNING' }],
      createdAt: new Date(),
      startedAt: new Date(),
    }
    let stoppedAt = 0
    const { DescribeTasksCommand } = await import('@aws-sdk/client-ecs')
    fake.ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => {
      if (fake.callsTo('UpdateService').length > 0 && !fake.tasks.has(straggler.taskArn as string)) {
        fake.tasks.set(straggler.taskArn as string, straggler)
        setTimeout(() => {
          Object.assign(straggler, { lastStatus: 'STOPPED', stoppedAt: new Date() })
          stoppedAt = Date.now()
        }, 600)
      }
      return fake.describeTasks(input)
    })
    const { error, log } = await run()
    expect(error).toBeUndefined()
    expect(log()).toContain(`task ${'5'.repeat(32)} appeared while draining`)
    const deployCall = fake.callsTo('UpdateService').find((c) => c.input.taskDefinition)
    expect(stoppedAt).toBeGreaterThan(0)
    expect(fake.started + (deployCall?.at ?? 0)).toBeGreaterThanOrEqual(stoppedAt)
  })

  it('keeps waiting through bursts of throttling', async () => {
    const fake = scripted({
      stop: { deactivatingMs: 50, stoppingMs: 50 },
      ecrImages: ['wwhd-dev-backend:new'],
    })
    // Once the drain has begun, two of every three polling reads are throttled beyond the SDK's own retries.
    let throttled = 0
    let reads = 0
    const { DescribeTasksCommand } = await import('@aws-sdk/client-ecs')
    fake.ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => {
      if (fake.callsTo('UpdateService').length > 0 && ++reads % 3 !== 0) {
        throttled++
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })
      }
      return fake.describeTasks(input)
    })
    const { error, outcome } = await run()
    expect(error).toBeUndefined()
    expect(outcome?.taskDefinitionArn).toBe(tdArn(42))
    expect(throttled).toBeGreaterThan(3)
  })

  it('waits for a deployment already in progress, or fails at once when told to', async () => {
    const waiting = scripted({ inProgressUntilMs: 100, ecrImages: ['wwhd-dev-backend:new'] })
    const waited = await run()
    expect(waited.error).toBeUndefined()
    expect(waited.log()).toContain('Another deployment is in progress')
    expect(waiting.callsTo('UpdateService')[0]?.at).toBeGreaterThanOrEqual(100)
    release?.()
    ecs?.restore()

    const failing = scripted({ inProgressUntilMs: 10_000, ecrImages: ['wwhd-dev-backend:new'] })
    const failed = await run({ ifDeploymentInProgress: 'fail' })
    expect(failed.error?.message).toMatch(
      /^Another deployment of wwhd-backend is in progress: .*Nothing was changed\.$/,
    )
    expect(failing.callsTo('UpdateService')).toEqual([])
  })

  it('times out during the drain without starting anything beside the draining task; the post step restores once it has STOPPED', async () => {
    const fake = scripted({
      stop: { deactivatingMs: 1500, stoppingMs: 0 },
      ecrImages: ['wwhd-dev-backend:new'],
    })
    const started = Date.now()
    const { error, log } = await run({ deadline: Date.now() + 300 })
    expect(Date.now() - started).toBeLessThan(1200)
    expect(error?.message).toMatch(
      /^Timed out after .* waiting for every task of wwhd-backend to reach STOPPED\. Last seen: [0-9a-f]{32} DEACTIVATING\.\nThe deploy failed before wwhd-backend:42 was started, and wwhd-backend:41 could not be restored within the timeout .*this step's post step finishes the drain and restores it\.\nState now \(read back from ECS\): wwhd-backend desired 0, running 0, .*tasks not STOPPED: [0-9a-f]{32} \(wwhd-backend:41 DEACTIVATING, stopping\)\.$/,
    )
    // Only the scale-down: the old revision was not started beside its own draining task.
    expect(fake.callsTo('UpdateService').map((c) => c.input)).toEqual([
      { cluster: CLUSTER, service: SERVICE, desiredCount: 0 },
    ])
    const saved = [...log().matchAll(/::save-state name=restore-point::(.*)/g)].map((m) => m[1])
    expect(saved.at(-1)).toContain(tdArn(41))

    // The post step, as the runner runs it: the saved state in STATE_restore-point.
    release?.()
    process.env['STATE_restore-point'] = saved.at(-1)
    const post = testContext()
    release = post.release
    let restored: Awaited<ReturnType<typeof restoreAfterInterruption>>
    try {
      restored = await restoreAfterInterruption(post.ctx.signal)
    } finally {
      delete process.env['STATE_restore-point']
    }
    const updates = fake.callsTo('UpdateService')
    expect(updates.at(-1)?.input).toEqual({
      cluster: CLUSTER,
      service: SERVICE,
      taskDefinition: tdArn(41),
      desiredCount: 1,
    })
    const old = [...fake.tasks.values()].find(
      (t) => t.taskDefinitionArn === tdArn(41) && t.lastStatus === 'STOPPED',
    )
    expect((updates.at(-1)?.at ?? 0) + fake.started).toBeGreaterThanOrEqual(
      old?.stoppedAt?.getTime() ?? Infinity,
    )
    expect(post.log()).toContain(
      'Restored wwhd-backend to wwhd-backend:41 at 1 task(s) after every task had STOPPED.',
    )
    expect(restored).toMatchObject({ service: 'wwhd-backend', revision: 'wwhd-backend:41', desiredCount: 1 })
  })

  it('when cancelled mid-drain, restores the previous revision only after every task has STOPPED, before the kill', async () => {
    const fake = scripted({
      stop: { deactivatingMs: 600, stoppingMs: 0 },
      ecrImages: ['wwhd-dev-backend:new'],
    })
    const controller = new AbortController()
    const cancellation = { at: undefined as number | undefined, killAt: undefined as number | undefined }
    setTimeout(() => {
      cancellation.at = Date.now()
      cancellation.killAt = Date.now() + 10_000
      controller.abort()
    }, 150)
    const { error, log } = await run({}, controller.signal, cancellation)
    expect(error?.message).toMatch(
      /^Cancelled while draining\. wwhd-backend was restored to wwhd-backend:41 at 1 task\(s\) after every task had STOPPED\.\nState now \(read back from ECS\): wwhd-backend desired 1, /,
    )
    const restore = fake.callsTo('UpdateService').at(-1)
    expect(restore?.input).toEqual({
      cluster: CLUSTER,
      service: SERVICE,
      taskDefinition: tdArn(41),
      desiredCount: 1,
    })
    const old = [...fake.tasks.values()].find((t) => t.lastStatus === 'STOPPED')
    expect((restore?.at ?? 0) + fake.started).toBeGreaterThanOrEqual(old?.stoppedAt?.getTime() ?? Infinity)
    expect(fake.service.desiredCount).toBe(1)
    expect(log()).toMatch(/::save-state name=restore-point::\n/) // cleared: nothing left for the post step
  })

  it('when cancelled with too little time before the kill, starts nothing and leaves the restore to the post step', async () => {
    const fake = scripted({
      stop: { deactivatingMs: 5000, stoppingMs: 0 },
      ecrImages: ['wwhd-dev-backend:new'],
    })
    const controller = new AbortController()
    const cancellation = { at: undefined as number | undefined, killAt: undefined as number | undefined }
    setTimeout(() => {
      cancellation.at = Date.now()
      cancellation.killAt = Date.now() + 2_500 // SIGTERM: 2.5 s to the SIGKILL
      controller.abort()
    }, 100)
    const started = Date.now()
    const { error, log } = await run({}, controller.signal, cancellation)
    expect(Date.now() - started).toBeLessThan(2_600)
    expect(error?.message).toMatch(
      /^Cancelled while draining\. Every task must be STOPPED before wwhd-backend:41 starts again, and there was no time left before the runner's kill .*: this step's post step finishes the drain and restores wwhd-backend:41 at 1 task\(s\)\.\nState now \(read back from ECS\): wwhd-backend desired 0, /,
    )
    expect(fake.callsTo('UpdateService').map((c) => c.input.desiredCount)).toEqual([0])
    const saved = [...log().matchAll(/::save-state name=restore-point::(.*)/g)].map((m) => m[1])
    expect(saved.at(-1)).toContain(tdArn(41))
  })

  it('with wait-for none returns once ECS accepted the update', async () => {
    const fake = scripted({
      launch: { 42: { pendingMs: 5000, runningMs: 0 } },
      ecrImages: ['wwhd-dev-backend:new'],
    })
    const { error, outcome } = await run({ waitFor: 'none' })
    expect(error).toBeUndefined()
    expect(outcome?.deploymentId).toMatch(/^ecs-svc\/\d{19}$/)
    expect(outcome?.startMs).toBe(0)
    expect(fake.callsTo('UpdateService')).toHaveLength(2)
  })

  it('waits for container health when the revision defines a health check', async () => {
    scripted({
      healthCheck: true,
      launch: { 42: { pendingMs: 5, runningMs: 5, healthyAfterMs: 200 } },
      ecrImages: ['wwhd-dev-backend:new'],
    })
    const { error, outcome, log } = await run()
    expect(error).toBeUndefined()
    expect(outcome?.startMs).toBeGreaterThanOrEqual(200)
    expect(log()).toMatch(/0\/1 new task\(s\) HEALTHY/)
  })

  it("warns when the service's own settings let ECS run two tasks of a single-writer service", async () => {
    const fake = scripted({ ecrImages: ['wwhd-dev-backend:new'] })
    const quiet = await run()
    expect(quiet.log()).not.toContain('may run two at once')
    release?.()
    fake.restore()
    const risky = scripted({
      ecrImages: ['wwhd-dev-backend:new'],
      circuitBreaker: { enable: true, rollback: true },
    })
    risky.service.deploymentConfiguration = { ...risky.service.deploymentConfiguration, maximumPercent: 200 }
    const warned = await run()
    expect(warned.error).toBeUndefined()
    expect(warned.log()).toMatch(
      /::warning::wwhd-backend is single-writer, but when ECS itself replaces a task it may run two at once: maximumPercent is 200 .*the circuit breaker rolls back by itself/,
    )
    expect(warned.log()).toContain(
      'maximumPercent=100,minimumHealthyPercent=0,deploymentCircuitBreaker={enable=true,rollback=false}',
    )
  })

  it('lets ECS retry launches whose containers never ran (they hold no lock), and never puts the old revision back once the new one was started', async () => {
    const fake = scripted({
      ecrImages: ['wwhd-dev-backend:new'],
      launch: {
        42: { pendingMs: 5, runningMs: 5, failToStart: 'CannotPullContainerError: pull access denied' },
      },
    })
    const { error, outputs, log } = await run()
    expect(log()).toContain('(its containers never ran, so it held no lock; ECS may try again)')
    expect(error?.message).toMatch(/^3 tasks of wwhd-backend:42 stopped during the deployment/)
    expect(error?.message).toContain('CannotPullContainerError: pull access denied')
    expect(outputs['deployment-id']).toMatch(/^ecs-svc\//)
    // Scale to 0, the new revision, 0 again to stop it: never 41 over it.
    expect(fake.callsTo('UpdateService').map((c) => [c.input.taskDefinition, c.input.desiredCount])).toEqual([
      [undefined, 0],
      [tdArn(42), 1],
      [undefined, 0],
    ])
  })

  it('deploys a task definition JSON file as `aws ecs describe-task-definition` writes it, keeping empty values', async () => {
    const fake = scripted({ ecrImages: ['wwhd-dev-backend:from-file'] })
    const dir = mkdtempSync(join(tmpdir(), 'taskdef-'))
    cleanups.push(dir)
    const file = join(dir, 'taskdef.json')
    const described = structuredClone(fake.definitions.get(tdArn(41))) as Record<string, unknown> & {
      containerDefinitions: Record<string, unknown>[]
    }
    described.containerDefinitions[0] = {
      ...described.containerDefinitions[0],
      image: `${ECR_HOST}/wwhd-dev-backend:from-file`,
      environment: [{ name: 'CORS_ORIGINS', value: '' }],
      command: [],
    }
    writeFileSync(
      file,
      JSON.stringify({ taskDefinition: described, tags: [{ key: 'team', value: 'search' }] }),
    )
    const { error, log } = await run({ definition: { kind: 'render', reference: file, environment: {} } })
    expect(error).toBeUndefined()
    const registered = fake.callsTo('RegisterTaskDefinition')[0]?.input as Record<string, unknown> & {
      containerDefinitions: Record<string, unknown>[]
    }
    expectNoReadOnlyFields(registered)
    expect(registered.containerDefinitions[0]).toMatchObject({
      image: `${ECR_HOST}/wwhd-dev-backend:from-file`,
      environment: [{ name: 'CORS_ORIGINS', value: '' }],
      command: [],
    })
    expect(registered.tags).toEqual([{ key: 'team', value: 'search' }])
    expect(log()).toMatch(/New: +wwhd-backend:42 at 1 task\(s\) \(registered now from file .*taskdef\.json\)/)
    expect(log()).toMatch(/Current: +wwhd-backend:41 at 1 task\(s\); alive: [0-9a-f]{32} \(RUNNING\)/)
  })

  it('names the input when the task definition file is missing or is not a task definition', async () => {
    scripted()
    const missing = await run({
      definition: { kind: 'render', reference: '/nonexistent/taskdef.json', environment: {} },
    })
    expect(missing.error?.message).toBe(
      `Input 'task-definition' "/nonexistent/taskdef.json": the file does not exist: expected a task definition JSON file, a family, family:revision or an ARN`,
    )
    release?.()
    const dir = mkdtempSync(join(tmpdir(), 'taskdef-'))
    cleanups.push(dir)
    const file = join(dir, 'not-a-taskdef.json')
    writeFileSync(file, JSON.stringify({ family: 'x' }))
    const wrong = await run({ definition: { kind: 'render', reference: file, environment: {} } })
    expect(wrong.error?.message).toContain(
      'the file has no containerDefinitions: expected an ECS task definition',
    )
  })
})

describe("the step's timeout bounds every part of a deploy", () => {
  it('a preflight call that never answers ends at the deadline, with nothing changed', async () => {
    const fake = scripted({ ecrImages: ['wwhd-dev-backend:new'] })
    fake.ecr.on(DescribeImagesCommand).callsFake(() => new Promise(() => {}))
    const started = Date.now()
    const { error } = await run({ deadline: Date.now() + 1_500 })
    expect(error?.message).toMatch(/^The preflight did not finish within the time left \(\d/)
    expect(Date.now() - started).toBeLessThan(4_000)
    expect(fake.callsTo('UpdateService')).toEqual([])
    expect(fake.callsTo('RegisterTaskDefinition')).toEqual([])
  })

  it('a diagnosis whose log reads never answer returns what it has at the deadline', async () => {
    const fake = scripted({
      efs: false,
      launch: { 42: { pendingMs: 5, runningMs: 5, crashAfterMs: 10, crashReason: 'exit 1: RuntimeError' } },
    })
    fake.logs.on(GetLogEventsCommand).callsFake(() => new Promise(() => {}))
    const started = Date.now()
    const { error, ctx } = await run({
      definition: { kind: 'render', containerName: 'api', environment: { BROKEN: '1' } },
      deadline: Date.now() + 2_000,
    })
    // The rollout fails within the deadline; the diagnosis gets what is left, and at least 3 s.
    expect(Date.now() - started).toBeLessThan(6_500)
    expect(error?.message).toMatch(/\nFirst cause: task [0-9a-f]{32} \(wwhd-backend:42\) stopped/)
    expect(error?.message).toMatch(/\nState now \(read back from ECS\): /)
    expect(ctx.report.toMarkdown({ ok: false })).toContain('the diagnosis stopped at the step')
  })
})

describe('the engine on its own: events and results, no action', () => {
  async function collect(overrides: Partial<DeployRequest> = {}) {
    const events: DeployEvent[] = []
    // Only to keep the engine's log lines out of the test output.
    release = testContext().release
    const engine = {
      signal: new AbortController().signal,
      killAt: () => undefined,
      emit: (e: DeployEvent) => events.push(e),
    }
    try {
      return {
        events,
        outcome: await deploy(engine, createClients(REGION), request(overrides)),
        error: undefined,
      }
    } catch (error) {
      return { events, outcome: undefined, error: error as Error }
    }
  }
  const shape = (events: DeployEvent[]) =>
    events.map((e) =>
      e.type === 'phase-started' || e.type === 'phase-ended' ? `${e.type} ${e.phase}` : e.type,
    )

  it('emits each phase, the plan and the deployment as they happen, and returns the outcome', async () => {
    scripted({ ecrImages: ['wwhd-dev-backend:new'] })
    const { events, outcome, error } = await collect()
    expect(error).toBeUndefined()
    expect(shape(events)).toEqual([
      'phase-started Preflight',
      'phase-ended Preflight',
      'planned',
      'phase-started Drain',
      'phase-ended Drain',
      'phase-started Start',
      'deployment-started',
      'phase-ended Start',
      'phase-started Healthy',
      'phase-ended Healthy',
    ])
    expect(events.find((e) => e.type === 'planned')).toMatchObject({
      previousTaskDefinitionArn: tdArn(41),
      taskDefinitionArn: tdArn(42),
      strategy: 'drain',
      singleWriter: true,
    })
    const started = events.find((e) => e.type === 'deployment-started')
    expect(started).toMatchObject({ deploymentId: outcome?.deploymentId })
    expect(events.filter((e) => e.type === 'phase-ended').every((e) => e.status === 'succeeded')).toBe(true)
    expect(outcome).toMatchObject({ taskDefinitionArn: tdArn(42), previousTaskDefinitionArn: tdArn(41) })
  })

  it('on a failed rollout: the failed phase, the stop of the failed revision, then the diagnosis', async () => {
    scripted({
      launch: { 42: { pendingMs: 5, runningMs: 5, crashAfterMs: 20, crashReason: 'exit 1: RuntimeError' } },
    })
    const { events, error } = await collect({
      definition: { kind: 'render', containerName: 'api', environment: { BROKEN: '1' } },
    })
    expect(error?.message).toMatch(/\nState now \(read back from ECS\): /)
    const failed = events.findIndex((e) => e.type === 'phase-ended' && e.status === 'failed')
    expect(failed).toBeGreaterThan(0)
    expect(['Start', 'Healthy']).toContain((events[failed] as { phase: string }).phase)
    expect(shape(events).slice(failed + 1)).toEqual([
      'phase-started Stop the failed revision',
      'phase-ended Stop the failed revision',
      'diagnosed',
    ])
    const diagnosed = events.at(-1) as Extract<DeployEvent, { type: 'diagnosed' }>
    expect(diagnosed.diagnosis.firstCause?.line).toMatch(/wwhd-backend:42\) stopped/)
  })
})
