import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import {
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs'
import { runAction, type RunOptions } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSampleStack, waitForSteadyService, type Stack } from '../../examples/sample-backend/stack.ts'

jest.setTimeout(120_000)

/**
 * run-task, bundled and run as the runner runs it, on ecs-local's simulated runtime: the seed's
 * "clear databases" one-off task on the service's EFS volumes. It must refuse while the service
 * holds them, succeed once the service is drained, fail on a non-zero exit with the log tail, stop
 * its task on cancel (and in the post step when killed), and give way when the service starts.
 */
const CLUSTER = 'ops-cluster'
const SERVICE = 'ops-backend'
let local: EcsLocal
let stack: Stack
let stateDir = ''

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'ecs-local-run-task-'))
  local = await startEcsLocal({
    runtime: 'simulated',
    stateDir,
    timings: { awsSecondsScale: 0.2 },
    simulated: {
      defaultBehaviour: { takesLock: true, startMs: 200 },
      images: {
        'cleanup:ok': {
          takesLock: true,
          runMs: 800,
          http: false,
          logs: ['[cleanup] removed /data/app.db', '[cleanup] cleared /data, /database: 1 entries removed'],
        },
        'cleanup:fails': {
          takesLock: true,
          runMs: 300,
          exitCode: 3,
          http: false,
          logs: ['[cleanup] fatal: /data/app.db: permission denied; nothing was removed'],
        },
        'cleanup:long': { takesLock: true, runMs: 60_000, http: false, stopMs: 500 },
      },
    },
  })
  stack = await createSampleStack(local, {
    cluster: CLUSTER,
    service: SERVICE,
    image: 'wwhd-dev-backend:v1',
    jwtSecret: 'ops',
  })
})
afterAll(async () => {
  await local?.stop()
  rmSync(stateDir, { recursive: true, force: true })
})

/** The seed's wwhd-cleanup: one container on the service's two EFS volumes. */
async function cleanupDefinition(image: string): Promise<string> {
  const reply = await stack.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'ops-cleanup',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'cleanup',
          image,
          essential: true,
          command: ['cleanup'],
          mountPoints: [
            { sourceVolume: 'data', containerPath: '/data' },
            { sourceVolume: 'database', containerPath: '/database' },
          ],
          stopTimeout: 5,
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': `/ecs/${SERVICE}`,
              'awslogs-region': 'us-east-1',
              'awslogs-stream-prefix': 'cleanup',
            },
          },
        },
      ],
      volumes: [
        { name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-00b8168893587fd61' } },
        { name: 'database', efsVolumeConfiguration: { fileSystemId: 'fs-0421d6926b3c7056d' } },
      ],
    }),
  )
  return reply.taskDefinition?.taskDefinitionArn as string
}

const run = (action: string, inputs: Record<string, string>, options: RunOptions = {}) =>
  runAction(action, { inputs, timeoutMs: 90_000, ...options, env: { ...local.awsEnv(), ...options.env } })
const runTask = (inputs: Record<string, string>, options: RunOptions = {}) =>
  run('run-task', { cluster: CLUSTER, service: SERVICE, ...inputs }, options)

const calls = (since: number, operation: string) =>
  local.calls.records.filter((r) => r.at >= since && r.operation === operation)

/** Every task of the cluster that is not STOPPED. */
async function aliveTasks(): Promise<{ arn: string; group: string; status: string }[]> {
  const arns = (
    await Promise.all(
      (['RUNNING', 'STOPPED'] as const).map((desiredStatus) =>
        stack.ecs.send(new ListTasksCommand({ cluster: CLUSTER, desiredStatus })),
      ),
    )
  ).flatMap((r) => r.taskArns ?? [])
  if (arns.length === 0) return []
  const tasks =
    (await stack.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns }))).tasks ?? []
  return tasks
    .filter((t) => t.lastStatus !== 'STOPPED')
    .map((t) => ({ arn: t.taskArn as string, group: t.group as string, status: t.lastStatus as string }))
}

async function scaleService(count: number) {
  const scaled = await run('drain-and-deploy', {
    cluster: CLUSTER,
    service: SERVICE,
    'desired-count': String(count),
    'stable-for': '1s',
  })
  expect(scaled.errors).toEqual([])
}

const overlaps = (since: number) =>
  local.report().overlaps.filter((o) => Date.parse(o.to ?? new Date().toISOString()) >= since)

describe('run-task on the simulated runtime', () => {
  it('refuses, before starting anything, while a task of the service holds the volumes', async () => {
    const definition = await cleanupDefinition('cleanup:ok')
    const since = Date.now()
    const refused = await runTask({ 'task-definition': definition })
    expect(refused.exitCode).toBe(1)
    expect(refused.errors[0]).toMatch(
      /^Refusing to start ops-cleanup:\d+: 1 task\(s\) that share its volumes are not STOPPED, .*Nothing was started\.\n- task [0-9a-f]+ \(ops-backend:1, RUNNING\): a task of service ops-backend/s,
    )
    expect(refused.errors[0]).toContain('drain-and-deploy with desired-count: 0 on ops-backend')
    expect(calls(since, 'RunTask')).toEqual([])

    // Without the service, the shared EFS file systems alone are enough to refuse.
    const byVolume = await run('run-task', {
      cluster: CLUSTER,
      'task-definition': definition,
      'network-configuration': '{"awsvpcConfiguration":{"subnets":["subnet-0a1"]}}',
    })
    expect(byVolume.exitCode).toBe(1)
    expect(byVolume.errors[0]).toMatch(/: mounts fs-00b8168893587fd61, fs-0421d6926b3c7056d/)
    expect(calls(since, 'RunTask')).toEqual([])
  })

  it('refuses bad overrides and a task definition that does not exist, naming the input, before any change', async () => {
    const definition = await cleanupDefinition('cleanup:ok')
    const since = Date.now()
    const unknown = await runTask({
      'task-definition': definition,
      'container-overrides': '[{"name":"cleanpu","command":["cleanup"]}]',
    })
    expect(unknown.errors[0]).toBe(
      `Input 'container-overrides' "cleanpu": ${definition.split('/').pop()} has no container of that name: expected one of cleanup\nFix the \`with:\` block of this step. Nothing was changed.`,
    )
    const typo = await runTask({
      'task-definition': definition,
      'container-overrides': '[{"name":"cleanup","commnd":["x"]}]',
    })
    expect(typo.errors[0]).toMatch(
      /^Input 'container-overrides': .*"commnd".*expected a JSON list of ECS container overrides/,
    )
    const missing = await runTask({ 'task-definition': 'ops-no-such-family' })
    expect(missing.errors[0]).toMatch(
      /^Input 'task-definition' "ops-no-such-family": there is no such task definition/,
    )
    const both = await runTask({
      'task-definition': definition,
      'launch-type': 'FARGATE',
      'capacity-provider': 'spot',
    })
    expect(both.errors[0]).toBe(
      `Input 'capacity-provider' "spot": launch-type and capacity-provider exclude each other: ECS takes one or the other\nFix the \`with:\` block of this step. Nothing was changed.`,
    )
    expect(
      local.calls.records.filter((r) => r.at >= since && /^(Run|Stop|Update)/.test(r.operation)),
    ).toEqual([])
  })

  it('runs once the service is drained: waits until STOPPED, prints the log tail, exit-code 0', async () => {
    await scaleService(0)
    const definition = await cleanupDefinition('cleanup:ok')
    const since = Date.now()
    const cleared = await runTask({
      'task-definition': definition,
      'container-overrides':
        '[{"name":"cleanup","environment":[{"name":"CLEAR_PATHS","value":"/data:/database"}]}]',
    })
    expect(cleared.errors).toEqual([])
    expect(cleared.exitCode).toBe(0)
    expect(cleared.outputs['exit-code']).toBe('0')
    expect(cleared.outputs['task-arn']).toMatch(/^arn:aws:ecs:us-east-1:\d{12}:task\/ops-cluster\/[0-9a-f]+$/)
    expect(cleared.outputs['stopped-reason']).toBe('Essential container in task exited')
    expect(cleared.log).toContain(
      'Nothing else holds its volumes (fs-00b8168893587fd61, fs-0421d6926b3c7056d)',
    )
    expect(cleared.log).toContain('[cleanup] cleared /data, /database: 1 entries removed')
    expect(cleared.log).toMatch(/finished: every essential container exited 0/)
    expect(cleared.summary).toContain('Exit code')
    // The override reached ECS.
    const task = (
      await stack.ecs.send(
        new DescribeTasksCommand({ cluster: CLUSTER, tasks: [cleared.outputs['task-arn'] as string] }),
      )
    ).tasks?.[0]
    expect(task?.overrides?.containerOverrides).toEqual([
      { name: 'cleanup', environment: [{ name: 'CLEAR_PATHS', value: '/data:/database' }] },
    ])
    expect(calls(since, 'RunTask')).toHaveLength(1)
    expect(await aliveTasks()).toEqual([])
    expect(cleared.state['one-off-task']).toBe('')
  })

  it('fails on a non-zero exit of an essential container, with its exit code and log tail', async () => {
    const definition = await cleanupDefinition('cleanup:fails')
    const failed = await runTask({ 'task-definition': definition })
    expect(failed.exitCode).toBe(1)
    expect(failed.outputs['exit-code']).toBe('3')
    expect(failed.errors[0]).toMatch(
      /^Task [0-9a-f]+ failed: cleanup exited 3\. Stopped reason: Essential container in task exited\./,
    )
    expect(failed.log).toContain('[cleanup] fatal: /data/app.db: permission denied; nothing was removed')
    expect(failed.summary).toContain('permission denied')
    expect(await aliveTasks()).toEqual([])
  })

  it('on cancel, stops its task and says it is STOPPED, read back', async () => {
    const definition = await cleanupDefinition('cleanup:long')
    const cancelled = await runTask({ 'task-definition': definition }, { cancelWhen: /→ RUNNING/ })
    expect(cancelled.cancelledAt).toBeDefined()
    expect(cancelled.exitCode).toBe(1)
    expect(cancelled.errors[0]).toMatch(
      /^Cancelled while waiting for the one-off task\. The task was stopped because the workflow was cancelled: task [0-9a-f]+ \(ops-cleanup:\d+\) stopped: ecs-lockstep run-task: the workflow was cancelled.* \(read back from ECS\)\./,
    )
    expect(cancelled.post?.exitCode).toBe(0)
    expect(cancelled.post?.log ?? '').not.toContain('stopping it now')
    expect(await aliveTasks()).toEqual([])
  })

  it('killed before it could stop its task, the post step stops it and waits until STOPPED', async () => {
    const definition = await cleanupDefinition('cleanup:long')
    const killed = await runTask({ 'task-definition': definition }, { killWhen: /→ RUNNING/ })
    expect(killed.signal).toBe('SIGKILL')
    expect(killed.post?.exitCode).toBe(0)
    expect(killed.post?.warnings.join('\n')).toMatch(/The main step ended before task [0-9a-f]+ had stopped/)
    expect(killed.post?.log).toMatch(/task [0-9a-f]+ \(ops-cleanup:\d+\) stopped: .*\(read back from ECS\)/)
    expect(killed.post?.summary).toMatch(/run-task \(stop\): stopped the one-off task [0-9a-f]{32}/)
    expect(killed.post?.summary).toMatch(/State after the stop.*\(ops-cleanup:\d+\) stopped/)
    expect(await aliveTasks()).toEqual([])
  })

  it('stops its task at once when the service starts a task meanwhile, and says so', async () => {
    const definition = await cleanupDefinition('cleanup:long')
    const since = Date.now()
    const running = runTask({ 'task-definition': definition })
    // Someone scales the service up by hand while the one-off task runs.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    await stack.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, desiredCount: 1 }))
    const gaveWay = await running
    expect(gaveWay.exitCode).toBe(1)
    expect(gaveWay.errors[0]).toMatch(
      /^Service ops-backend started 1 task\(s\) \(desired 1\) while the one-off task was running: they would share its volumes\. The task was stopped because another task started on its volumes: task [0-9a-f]+ .*stopped/,
    )
    // Cut short within a couple of polls of the service's task appearing.
    const stop = calls(since, 'StopTask')[0]
    const update = calls(since, 'UpdateService')[0]
    expect(stop).toBeDefined()
    expect((stop?.at ?? 0) - (update?.at ?? 0)).toBeLessThan(5000)
    await waitForSteadyService(stack.ecs, CLUSTER, SERVICE, 60_000)
    expect(overlaps(since).length).toBeLessThanOrEqual(1)
    await scaleService(0)
  })

  it('with wait: false, returns once the task is started', async () => {
    const definition = await cleanupDefinition('cleanup:ok')
    const started = await runTask({ 'task-definition': definition, wait: 'false' })
    expect(started.errors).toEqual([])
    expect(started.outputs['task-arn']).toMatch(/:task\/ops-cluster\//)
    expect(started.outputs['exit-code']).toBeUndefined()
    expect(started.post?.log ?? '').not.toContain('stopping it now')
    // It finishes on its own.
    for (let i = 0; i < 20 && (await aliveTasks()).length > 0; i++)
      await new Promise((r) => setTimeout(r, 500))
    expect(await aliveTasks()).toEqual([])
  })
})
