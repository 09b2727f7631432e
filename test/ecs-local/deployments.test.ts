import { describe, expect, it } from '@jest/globals'
import { CreateServiceCommand, UpdateServiceCommand, type DeploymentConfiguration } from '@aws-sdk/client-ecs'
import { CreateLogGroupCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { ZERO_TIMINGS } from '@ecs-lockstep/ecs-local'
import {
  CLUSTER,
  NETWORK,
  allTasksOf,
  describeService,
  describeTasks,
  efsVolume,
  messages,
  registerTaskDefinition,
  tasksOf,
  until,
  useLocal,
} from './support.ts'

// Every lifecycle duration 0. awsSecondsScale 0.01 keeps a stopTimeout (30 s → 300 ms) longer than
// the 150 ms a database takes to shut down, so its SIGTERM exit is graceful. A task without health
// checks counts as healthy 100 ms after RUNNING (ECS: 40 s): a crash before that is a failed launch.
const h = useLocal({
  runtime: 'simulated',
  timings: {
    ...ZERO_TIMINGS,
    awsSecondsScale: 0.01,
    healthyWithoutChecksMs: 100,
    launchBackoffMs: 40,
    launchBackoffMaxMs: 200,
  },
  simulated: {
    images: {
      // Qdrant/SQLite stand-ins: an exclusive lock on the EFS volume, released 150 ms after SIGTERM.
      'db:': { takesLock: true, stopMs: 150 },
      'broken:': { crashAfterMs: 0, logs: ['fatal: JWT_SECRET is not set'] },
      'slow:': { startMs: 150 },
    },
  },
})

const LOG_GROUP = '/ecs/wwhd-backend'

function dbContainer(image: string) {
  return [
    {
      name: 'api',
      image,
      portMappings: [{ containerPort: 8000 }],
      mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }],
      logConfiguration: {
        logDriver: 'awslogs' as const,
        options: {
          'awslogs-group': LOG_GROUP,
          'awslogs-region': 'us-east-1',
          'awslogs-stream-prefix': 'fastapi',
        },
      },
    },
  ]
}

async function createService(
  name: string,
  taskDefinition: string,
  deploymentConfiguration: DeploymentConfiguration,
) {
  await h.clients.ecs.send(
    new CreateServiceCommand({
      cluster: CLUSTER,
      serviceName: name,
      taskDefinition,
      desiredCount: 1,
      launchType: 'FARGATE',
      networkConfiguration: NETWORK,
      deploymentConfiguration,
    }),
  )
}

/** The rollout is over: one COMPLETED deployment of `taskDefinition`, its task RUNNING, all others STOPPED. */
async function completed(name: string, taskDefinition: string) {
  return until(
    async () => {
      const service = await describeService(h.clients.ecs, name)
      const [only] = service.deployments ?? []
      if (service.deployments?.length !== 1 || only?.rolloutState !== 'COMPLETED') return false
      if (only.taskDefinition !== taskDefinition || service.runningCount !== service.desiredCount)
        return false
      const tasks = await allTasksOf(h.clients.ecs, name)
      return tasks.every((t) => t.lastStatus === 'STOPPED' || t.lastStatus === 'RUNNING') && service
    },
    { what: `${name} to complete ${taskDefinition}` },
  )
}

const overlapsOf = (service: string) =>
  h.local.report().overlaps.filter((o) => o.tasks.some((t) => t.service === service))

describe('deployments (simulated runtime, zero timings)', () => {
  it('min 0 / max 100 starts the new task while the old one still holds the volume: the monitor reports it, the lock fails it', async () => {
    const { ecs, logs } = h.clients
    await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }))
    const volumes = [efsVolume('data', 'fs-00b8168893587fd61')]
    const rev1 = await registerTaskDefinition(ecs, dbContainer('db:1'), { family: 'min0', volumes })
    await createService('min0', rev1, { minimumHealthyPercent: 0, maximumPercent: 100 })
    await completed('min0', rev1)
    const [oldTask] = await tasksOf(ecs, 'min0')

    const rev2 = await registerTaskDefinition(ecs, dbContainer('db:2'), { family: 'min0', volumes })
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'min0', taskDefinition: rev2 }))
    await completed('min0', rev2)

    const overlaps = overlapsOf('min0')
    expect(overlaps.length).toBeGreaterThan(0)
    const [first] = overlaps
    expect(first?.volume).toBe('efs:fs-00b8168893587fd61:/')
    expect(first?.tasks.map((t) => t.taskArn)).toContain(oldTask)
    expect(first?.tasks.every((t) => t.service === 'min0')).toBe(true)
    expect(first?.ms).toBeGreaterThan(0)
    expect(Date.parse(first?.to as string)).toBeGreaterThan(Date.parse(first?.from as string))
    // The same report over the control endpoint, with each task's timeline.
    const report = (await (await fetch(`${h.local.endpoint}/_ecs-local/report`)).json()) as ReturnType<
      typeof h.local.report
    >
    expect(report.overlaps.filter((o) => o.tasks.some((t) => t.service === 'min0'))).toEqual(overlaps)
    expect(report.timelines.find((t) => t.taskArn === oldTask)?.history.map((s) => s.status)).toEqual([
      'PROVISIONING',
      'PENDING',
      'ACTIVATING',
      'RUNNING',
      'DEACTIVATING',
      'STOPPING',
      'DEPROVISIONING',
      'STOPPED',
    ])

    // The symptom the seed's workflow fights: the new task could not take the lock.
    const tasks = await allTasksOf(ecs, 'min0')
    const locked = tasks.filter((t) => t.taskDefinitionArn === rev2 && t.lastStatus === 'STOPPED')
    expect(locked.length).toBeGreaterThan(0)
    expect(locked[0]).toMatchObject({
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [expect.objectContaining({ exitCode: 1 })],
    })
    const found = await logs.send(
      new FilterLogEventsCommand({ logGroupName: LOG_GROUP, filterPattern: '"database is locked"' }),
    )
    expect(found.events?.length).toBeGreaterThan(0)
    expect(found.events?.[0]?.logStreamName).toMatch(/^fastapi\/api\/[0-9a-f]{32}$/)
  })

  it('min 100 / max 200 starts the new task before stopping the old one: both live at once', async () => {
    const { ecs } = h.clients
    const volumes = [efsVolume('data', 'fs-0421d6926b3c7056d')]
    const rev1 = await registerTaskDefinition(
      ecs,
      [{ ...dbContainer('app:1')[0], logConfiguration: undefined }],
      {
        family: 'rolling',
        volumes,
      },
    )
    await createService('rolling', rev1, { minimumHealthyPercent: 100, maximumPercent: 200 })
    await completed('rolling', rev1)
    const [oldTask] = await tasksOf(ecs, 'rolling')
    const rev2 = await registerTaskDefinition(
      ecs,
      [{ ...dbContainer('app:2')[0], logConfiguration: undefined }],
      {
        family: 'rolling',
        volumes,
      },
    )
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'rolling', taskDefinition: rev2 }))
    const service = await completed('rolling', rev2)
    const [newTask] = await tasksOf(ecs, 'rolling')

    const [overlap] = overlapsOf('rolling')
    expect(overlap?.tasks.map((t) => t.taskArn).sort()).toEqual([oldTask, newTask].sort())
    const events = messages(service)
    const started = events.findIndex((m) =>
      m.includes(`has started 1 tasks: (task ${newTask?.split('/').pop()}).`),
    )
    const stopped = events.findIndex((m) =>
      m.includes(`has stopped 1 running tasks: (task ${oldTask?.split('/').pop()}).`),
    )
    // Newest first: the old task was stopped after the new one had started.
    expect(stopped).toBeGreaterThanOrEqual(0)
    expect(started).toBeGreaterThan(stopped)
  })

  it('a serialized deploy (drain to 0, wait for STOPPED, then deploy) shares no volume, in well under a second', async () => {
    const { ecs } = h.clients
    const volumes = [efsVolume('data', 'fs-serialized')]
    const rev1 = await registerTaskDefinition(
      ecs,
      [{ name: 'api', image: 'app:1', mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }] }],
      {
        family: 'serial',
        volumes,
      },
    )
    await createService('serial', rev1, { minimumHealthyPercent: 100, maximumPercent: 200 })
    await completed('serial', rev1)

    const started = performance.now()
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'serial', desiredCount: 0 }))
    await until(async () => {
      if ((await tasksOf(ecs, 'serial')).length > 0) return false
      const stopped = await describeTasks(ecs, await tasksOf(ecs, 'serial', 'STOPPED'))
      return stopped.length > 0 && stopped.every((t) => t.lastStatus === 'STOPPED')
    })
    const rev2 = await registerTaskDefinition(
      ecs,
      [{ name: 'api', image: 'app:2', mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }] }],
      {
        family: 'serial',
        volumes,
      },
    )
    await ecs.send(
      new UpdateServiceCommand({
        cluster: CLUSTER,
        service: 'serial',
        taskDefinition: rev2,
        desiredCount: 1,
      }),
    )
    const service = await completed('serial', rev2)
    const elapsedMs = performance.now() - started

    expect(elapsedMs).toBeLessThan(1000)
    expect(overlapsOf('serial')).toEqual([])
    const [deployment] = service.deployments ?? []
    expect(deployment?.id).toMatch(/^ecs-svc\/\d{19}$/)
    expect(deployment?.rolloutStateReason).toBe(`ECS deployment ${deployment?.id} completed.`)
    expect(messages(service).slice(0, 3)).toEqual([
      '(service serial) has reached a steady state.',
      `(service serial) (deployment ${deployment?.id}) deployment completed.`,
      expect.stringMatching(/^\(service serial\) has started 1 tasks: \(task [0-9a-f]{32}\)\.$/),
    ])
    expect(messages(service)).toContain(
      `(service serial) has stopped 1 running tasks: (task ${h.local.report().timelines.find((t) => t.taskDefinitionArn === rev1 && t.service === 'serial')?.taskId}).`,
    )
  })

  it('min 100 / max 100 at desiredCount 1 stalls: nothing may start and nothing may stop', async () => {
    const { ecs } = h.clients
    const rev1 = await registerTaskDefinition(ecs, [{ name: 'api', image: 'app:1' }], { family: 'stall' })
    await createService('stall', rev1, { minimumHealthyPercent: 100, maximumPercent: 100 })
    await completed('stall', rev1)
    const rev2 = await registerTaskDefinition(ecs, [{ name: 'api', image: 'app:2' }], { family: 'stall' })
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'stall', taskDefinition: rev2 }))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const service = await describeService(ecs, 'stall')
    expect(
      service.deployments?.map((d) => [d.status, d.taskDefinition, d.runningCount, d.rolloutState]),
    ).toEqual([
      ['PRIMARY', rev2, 0, 'IN_PROGRESS'],
      ['ACTIVE', rev1, 1, 'COMPLETED'],
    ])
  })

  it('the circuit breaker fails a deployment after 3 failed tasks at desiredCount 1 and rolls back to the last completed one', async () => {
    const { ecs } = h.clients
    const good = await registerTaskDefinition(ecs, [{ name: 'api', image: 'app:1' }], { family: 'breaker' })
    await createService('breaker', good, {
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    })
    const before = await completed('breaker', good)
    const goodDeployment = before.deployments?.[0]?.id as string
    const bad = await registerTaskDefinition(ecs, [{ name: 'api', image: 'broken:2' }], { family: 'breaker' })
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'breaker', taskDefinition: bad }))
    const after = await completed('breaker', good)

    const history = h.local.report().services.find((s) => s.service === 'breaker')?.deployments ?? []
    const failed = history.find((d) => d.taskDefinition === bad)
    expect(failed).toMatchObject({
      status: 'INACTIVE',
      rolloutState: 'FAILED',
      rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
      failedTasks: 3,
    })
    const rollback = after.deployments?.[0]
    expect(rollback?.id).not.toBe(goodDeployment)
    expect(rollback?.rolloutStateReason).toBe(`ECS deployment ${rollback?.id} completed.`)
    expect(history.find((d) => d.id === rollback?.id)?.createdAt).toBeDefined()
    expect(after.taskDefinition).toBe(good)
    expect(messages(after)).toEqual(
      expect.arrayContaining([
        `(service breaker) (deployment ${failed?.id}) deployment failed: tasks failed to start.`,
        `(service breaker) (deployment ${failed?.id}) rolling back to deployment ${goodDeployment}`,
        '(service breaker) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.',
      ]),
    )
    const badTasks = (await allTasksOf(ecs, 'breaker')).filter((t) => t.taskDefinitionArn === bad)
    expect(badTasks).toHaveLength(3)
    expect(badTasks.every((t) => t.stoppedReason === 'Essential container in task exited')).toBe(true)
  })

  it('the rollback deployment says why it exists while it runs', async () => {
    const { ecs } = h.clients
    // A slow start keeps the rollback IN_PROGRESS long enough to be seen.
    const good = await registerTaskDefinition(ecs, [{ name: 'api', image: 'slow:1' }], {
      family: 'breaker-seen',
    })
    await createService('breaker-seen', good, {
      minimumHealthyPercent: 0,
      maximumPercent: 100,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    })
    const goodDeployment = (await completed('breaker-seen', good)).deployments?.[0]?.id
    const bad = await registerTaskDefinition(ecs, [{ name: 'api', image: 'broken:2' }], {
      family: 'breaker-seen',
    })
    await ecs.send(
      new UpdateServiceCommand({ cluster: CLUSTER, service: 'breaker-seen', taskDefinition: bad }),
    )
    const reasons = new Set<string>()
    await until(async () => {
      const service = await describeService(ecs, 'breaker-seen')
      for (const d of service.deployments ?? [])
        reasons.add(`${d.status} ${d.rolloutState} ${d.rolloutStateReason}`)
      const [only] = service.deployments ?? []
      return (
        service.deployments?.length === 1 &&
        only?.taskDefinition === good &&
        only.rolloutState === 'COMPLETED'
      )
    })
    const history = h.local.report().services.find((s) => s.service === 'breaker-seen')?.deployments ?? []
    expect(history.map((d) => [d.taskDefinition, d.rolloutState])).toEqual([
      [good, 'COMPLETED'],
      [bad, 'FAILED'],
      [good, 'COMPLETED'],
    ])
    expect(history[2]?.id).toBe(goodDeployment)
    expect(reasons).toContain(
      `PRIMARY IN_PROGRESS ECS deployment circuit breaker: rolling back to deploymentId ${goodDeployment}.`,
    )
  })

  it('without rollback the failed deployment launches nothing more and the old task keeps serving', async () => {
    const { ecs } = h.clients
    const good = await registerTaskDefinition(ecs, [{ name: 'api', image: 'app:1' }], {
      family: 'breaker-stays',
    })
    await createService('breaker-stays', good, {
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: false },
    })
    await completed('breaker-stays', good)
    const [oldTask] = await tasksOf(ecs, 'breaker-stays')
    const bad = await registerTaskDefinition(ecs, [{ name: 'api', image: 'broken:2' }], {
      family: 'breaker-stays',
    })
    await ecs.send(
      new UpdateServiceCommand({ cluster: CLUSTER, service: 'breaker-stays', taskDefinition: bad }),
    )
    const failed = await until(async () => {
      const service = await describeService(ecs, 'breaker-stays')
      return service.deployments?.[0]?.rolloutState === 'FAILED' && service
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    const later = await describeService(ecs, 'breaker-stays')
    expect(
      later.deployments?.map((d) => [d.status, d.taskDefinition, d.rolloutState, d.failedTasks]),
    ).toEqual([
      ['PRIMARY', bad, 'FAILED', 3],
      ['ACTIVE', good, 'COMPLETED', 0],
    ])
    expect(failed.deployments?.[0]?.rolloutStateReason).toBe(
      'ECS deployment circuit breaker: tasks failed to start.',
    )
    expect((await allTasksOf(ecs, 'breaker-stays')).filter((t) => t.taskDefinitionArn === bad)).toHaveLength(
      3,
    )
    expect((await describeTasks(ecs, [oldTask as string]))[0]?.lastStatus).toBe('RUNNING')
  })

  it('the threshold is half the desired count, at least 3: a first deployment of 8 broken tasks fails at 4 or more', async () => {
    const { ecs } = h.clients
    const bad = await registerTaskDefinition(ecs, [{ name: 'api', image: 'broken:1' }], { family: 'eight' })
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'eight',
        taskDefinition: bad,
        desiredCount: 8,
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    )
    const service = await until(async () => {
      const s = await describeService(ecs, 'eight')
      return s.deployments?.[0]?.rolloutState === 'FAILED' && s
    })
    // Nothing to roll back to: the first deployment just stays FAILED.
    expect(service.deployments).toHaveLength(1)
    expect(service.deployments?.[0]?.failedTasks).toBeGreaterThanOrEqual(4)
  })
})
