import { describe, expect, it } from '@jest/globals'
import {
  CreateServiceCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  waitUntilTasksStopped,
} from '@aws-sdk/client-ecs'
import { GetLogEventsCommand, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  CLUSTER,
  NETWORK,
  createBalancer,
  describeService,
  describeTasks,
  registerTaskDefinition,
  tasksOf,
  until,
  holdConnection,
  useLocal,
} from './support.ts'

// Small but non-zero durations, so every state can be seen by a poller. awsSecondsScale 0.002
// turns the target group's 300 s deregistration delay into 600 ms and a stopTimeout of 120 s into 240 ms.
const h = useLocal({
  runtime: 'simulated',
  timings: {
    provisioningMs: 20,
    pendingMs: 20,
    activatingMs: 20,
    deprovisioningMs: 20,
    healthyWithoutChecksMs: 0,
    launchBackoffMs: 10,
    awsSecondsScale: 0.002,
  },
  simulated: {
    holdPath: '/stream',
    images: {
      'app:slow-stop': { stopMs: 200 },
      'cleanup:': { runMs: 50, logs: ['cleanup: emptied /data and /database'] },
    },
  },
})

const LIFECYCLE = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
]

describe('task lifecycle (simulated runtime)', () => {
  it('walks a service task behind a load balancer through all eight states, in ECS order', async () => {
    const { ecs, elb } = h.clients
    const lb = await createBalancer(elb, 'order')
    const td = await registerTaskDefinition(ecs, [
      { name: 'api', image: 'app:slow-stop', portMappings: [{ containerPort: 8000 }], stopTimeout: 120 },
    ])
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'order',
        taskDefinition: td,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
        loadBalancers: [{ targetGroupArn: lb.targetGroupArn, containerName: 'api', containerPort: 8000 }],
      }),
    )
    const [arn] = await until(async () => {
      const arns = await tasksOf(ecs, 'order')
      const [task] = await describeTasks(ecs, arns)
      return task?.lastStatus === 'RUNNING' && arns
    })
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'order', desiredCount: 0 }))
    await waitUntilTasksStopped(
      { client: ecs, maxWaitTime: 10, minDelay: 1 },
      { cluster: CLUSTER, tasks: [arn as string] },
    )

    const timeline = h.local.report().timelines.find((t) => t.taskArn === arn)
    expect(timeline?.history.map((step) => step.status)).toEqual(LIFECYCLE)
    const [stopped] = await describeTasks(ecs, [arn as string])
    expect(stopped?.stopCode).toBe('ServiceSchedulerInitiated')
    expect(stopped?.stoppedReason).toMatch(/^Scaling activity initiated by \(deployment ecs-svc\/\d{19}\)$/)
    for (const field of [
      'createdAt',
      'pullStartedAt',
      'pullStoppedAt',
      'startedAt',
      'stoppingAt',
      'stoppedAt',
    ] as const) {
      expect(stopped?.[field]).toBeInstanceOf(Date)
    }
    expect((stopped?.startedAt as Date) <= (stopped?.stoppingAt as Date)).toBe(true)
    expect((stopped?.stoppingAt as Date) <= (stopped?.stoppedAt as Date)).toBe(true)
  })

  it('flips desiredStatus to STOPPED at once while lastStatus drains; ListTasks drops the task while its container lives', async () => {
    const { ecs, elb } = h.clients
    const lb = await createBalancer(elb, 'drain')
    const td = await registerTaskDefinition(ecs, [
      { name: 'api', image: 'app:slow-stop', portMappings: [{ containerPort: 8000 }], stopTimeout: 120 },
    ])
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'drain',
        taskDefinition: td,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
        loadBalancers: [{ targetGroupArn: lb.targetGroupArn, containerName: 'api', containerPort: 8000 }],
      }),
    )
    const [arn] = await until(async () => {
      const service = await describeService(ecs, 'drain')
      return service.deployments?.[0]?.rolloutState === 'COMPLETED' && (await tasksOf(ecs, 'drain'))
    })
    // A request in flight keeps the target draining for the whole delay (an idle one would not).
    const drop = await holdConnection(`${lb.url}/stream`)
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'drain', desiredCount: 0 }))

    const seen = new Set<string>()
    let stableWhileAlive = false
    let listedWhileDraining = true
    for (;;) {
      const [task] = await describeTasks(ecs, [arn as string])
      seen.add(`${task?.desiredStatus}/${task?.lastStatus}`)
      if (task?.lastStatus === 'STOPPED') break
      if (task?.lastStatus === 'DEACTIVATING' || task?.lastStatus === 'STOPPING') {
        listedWhileDraining &&= (await tasksOf(ecs, 'drain')).length === 0
        expect(await tasksOf(ecs, 'drain', 'STOPPED')).toContain(arn)
        const service = await describeService(ecs, 'drain')
        const lifetime = h.local.monitor.lifetimes().find((l) => l.taskArn === arn)
        // What `aws ecs wait services-stable` checks, true while the container still runs.
        if (
          service.deployments?.length === 1 &&
          service.runningCount === service.desiredCount &&
          !lifetime?.to
        ) {
          stableWhileAlive = true
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    drop()
    expect(seen).toContain('STOPPED/DEACTIVATING')
    expect(seen).toContain('STOPPED/STOPPING')
    expect(seen).not.toContain('RUNNING/DEACTIVATING')
    expect(seen).not.toContain('RUNNING/STOPPING')
    expect(listedWhileDraining).toBe(true)
    expect(stableWhileAlive).toBe(true)
    const events = (await describeService(ecs, 'drain')).events?.map((e) => e.message) ?? []
    const id = (arn as string).split('/').pop()
    expect(events).toEqual(
      expect.arrayContaining([
        `(service drain) registered 1 targets in (target-group ${lb.targetGroupArn})`,
        `(service drain) deregistered 1 targets in (target-group ${lb.targetGroupArn})`,
        '(service drain) has begun draining connections on 1 tasks.',
        `(service drain) has stopped 1 running tasks: (task ${id}).`,
      ]),
    )
    // Newest first: draining is announced after deregistering, the stop after the drain.
    const order = ['has stopped 1 running tasks', 'has begun draining', 'deregistered 1 targets'].map((m) =>
      events.findIndex((e) => e?.includes(m)),
    )
    expect(order).toEqual([...order].sort((a, b) => a - b))
  })

  it('runs a one-off task with overrides; its essential container exiting stops it with EssentialContainerExited', async () => {
    const { ecs, logs } = h.clients
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/wwhd-cleanup' }))
    const td = await registerTaskDefinition(
      ecs,
      [
        {
          name: 'cleanup',
          image: 'cleanup:1',
          command: ['api'],
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': '/ecs/wwhd-cleanup',
              'awslogs-region': 'us-east-1',
              'awslogs-stream-prefix': 'cleanup',
            },
          },
        },
      ],
      { family: 'wwhd-cleanup' },
    )
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'wwhd-cleanup:1',
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
        startedBy: 'clear-databases',
        overrides: {
          containerOverrides: [
            { name: 'cleanup', command: ['cleanup'], environment: [{ name: 'CONFIRM', value: 'yes' }] },
          ],
        },
      }),
    )
    const task = run.tasks?.[0]
    expect(task).toMatchObject({
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      group: 'family:wwhd-cleanup',
      startedBy: 'clear-databases',
      taskDefinitionArn: td,
      overrides: {
        containerOverrides: [
          { name: 'cleanup', command: ['cleanup'], environment: [{ name: 'CONFIRM', value: 'yes' }] },
        ],
      },
    })
    await waitUntilTasksStopped(
      { client: ecs, maxWaitTime: 10, minDelay: 1 },
      { cluster: CLUSTER, tasks: [task?.taskArn as string] },
    )
    const [stopped] = await describeTasks(ecs, [task?.taskArn as string])
    expect(stopped).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [expect.objectContaining({ name: 'cleanup', lastStatus: 'STOPPED', exitCode: 0 })],
    })
    const id = (task?.taskArn as string).split('/').pop()
    const events = await logs.send(
      new GetLogEventsCommand({
        logGroupName: '/ecs/wwhd-cleanup',
        logStreamName: `cleanup/cleanup/${id}`,
        startFromHead: true,
      }),
    )
    expect(events.events?.map((e) => e.message)).toEqual(['cleanup: emptied /data and /database'])
    // STOPPED tasks are listed under desiredStatus STOPPED, by family and by startedBy.
    const byFamily = await ecs.send(
      new ListTasksCommand({
        cluster: CLUSTER,
        family: 'wwhd-cleanup',
        desiredStatus: 'STOPPED',
        startedBy: 'clear-databases',
      }),
    )
    expect(byFamily.taskArns).toEqual([task?.taskArn])
  })

  it('StopTask records the reason and UserInitiated; a service replaces the stopped task', async () => {
    const { ecs } = h.clients
    const td = await registerTaskDefinition(ecs, [{ name: 'api', image: 'app:1' }])
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'replaced',
        taskDefinition: td,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
      }),
    )
    const [first] = await until(async () => {
      const arns = await tasksOf(ecs, 'replaced')
      return (await describeTasks(ecs, arns))[0]?.lastStatus === 'RUNNING' && arns
    })
    const stop = await ecs.send(
      new StopTaskCommand({ cluster: CLUSTER, task: first as string, reason: 'rotating credentials' }),
    )
    expect(stop.task).toMatchObject({
      desiredStatus: 'STOPPED',
      stoppedReason: 'rotating credentials',
      stopCode: 'UserInitiated',
    })
    const replacement = await until(async () => {
      const arns = await tasksOf(ecs, 'replaced')
      const running = (await describeTasks(ecs, arns)).filter((t) => t.lastStatus === 'RUNNING')
      return running.find((t) => t.taskArn !== first)
    })
    expect(replacement.startedBy).toMatch(/^ecs-svc\/\d{19}$/)
    expect(replacement.group).toBe('service:replaced')
    const missing = await ecs.send(
      new DescribeTasksCommand({ cluster: CLUSTER, tasks: ['0123456789abcdef0123456789abcdef'] }),
    )
    expect(missing.failures).toEqual([
      {
        arn: `arn:aws:ecs:us-east-1:123456789012:task/${CLUSTER}/0123456789abcdef0123456789abcdef`,
        reason: 'MISSING',
      },
    ])
  })
})
