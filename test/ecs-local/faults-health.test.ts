import { describe, expect, it } from '@jest/globals'
import {
  CreateServiceCommand,
  DescribeClustersCommand,
  ListClustersCommand,
  RunTaskCommand,
  ServerException,
  StopTaskCommand,
  type ContainerDefinition,
  type Task,
} from '@aws-sdk/client-ecs'
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { ZERO_TIMINGS } from '@ecs-lockstep/ecs-local'
import {
  CLUSTER,
  NETWORK,
  allTasksOf,
  describeService,
  describeTasks,
  messages,
  registerTaskDefinition,
  tasksOf,
  until,
  useLocal,
} from './support.ts'

// awsSecondsScale 0.01: a 5 s health check interval takes 50 ms, a 10 s grace period 100 ms.
const h = useLocal({
  runtime: 'simulated',
  registry: true,
  timings: { ...ZERO_TIMINGS, awsSecondsScale: 0.01 },
  simulated: {
    images: {
      'sick:': { healthy: false },
      'warming:': { healthyAfterMs: 150 },
    },
  },
})

const HEALTH_CHECK = { command: ['CMD', '/app/healthcheck'], interval: 5, timeout: 2, retries: 2 }

async function runOne(containers: ContainerDefinition[]): Promise<string> {
  const td = await registerTaskDefinition(h.clients.ecs, containers)
  const run = await h.clients.ecs.send(
    new RunTaskCommand({
      cluster: CLUSTER,
      taskDefinition: td,
      launchType: 'FARGATE',
      networkConfiguration: NETWORK,
    }),
  )
  return run.tasks?.[0]?.taskArn as string
}

async function whenStopped(arn: string): Promise<Task> {
  return until(async () => {
    const [task] = await describeTasks(h.clients.ecs, [arn])
    return task?.lastStatus === 'STOPPED' && task
  })
}

async function postFaults(body: unknown): Promise<unknown> {
  const response = await fetch(`${h.local.endpoint}/_ecs-local/faults`, {
    method: 'POST',
    body: JSON.stringify(body),
  })
  return response.json()
}

describe('API faults', () => {
  it('throttles the next calls with "Rate exceeded", then answers again', async () => {
    await postFaults({ throttleNext: 2, operations: ['ecs:ListClusters'] })
    for (let i = 0; i < 2; i += 1) {
      const error = await h.clients.ecs.send(new ListClustersCommand({})).catch((e: unknown) => e)
      expect(error).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' })
    }
    // Another operation is not affected; the third call goes through.
    await expect(
      h.clients.ecs.send(new DescribeClustersCommand({ clusters: [CLUSTER] })),
    ).resolves.toBeDefined()
    await expect(h.clients.ecs.send(new ListClustersCommand({}))).resolves.toBeDefined()
    expect(await postFaults({})).toEqual({})
  })

  it('fails the next call with a 500 ServerException', async () => {
    h.local.faults.set({ serverErrorNext: 1 })
    const error = await h.clients.ecs.send(new ListClustersCommand({})).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ServerException)
    expect((error as ServerException).$metadata.httpStatusCode).toBe(500)
    h.local.faults.set({})
  })
})

describe('task faults', () => {
  it('launchFailures: the next launch fails with CannotPullContainerError and the service replaces it', async () => {
    const { ecs } = h.clients
    h.local.faults.set({ launchFailures: 1 })
    const td = await registerTaskDefinition(ecs, [{ name: 'api', image: 'app:1' }])
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'flaky-pull',
        taskDefinition: td,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
      }),
    )
    const service = await until(async () => {
      const s = await describeService(ecs, 'flaky-pull')
      return s.deployments?.[0]?.rolloutState === 'COMPLETED' && s
    })
    const failed = (await allTasksOf(ecs, 'flaky-pull')).find((t) => t.lastStatus === 'STOPPED')
    expect(failed).toMatchObject({
      stopCode: 'TaskFailedToStart',
      stoppedReason:
        'CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref app:1: app:1: not found',
      containers: [expect.objectContaining({ reason: expect.stringMatching(/^CannotPullContainerError: /) })],
    })
    // A healthy task resets the circuit breaker's count.
    expect(service.deployments?.[0]?.failedTasks).toBe(0)
    expect(h.local.faults.config.launchFailures).toBe(0)
  })

  it('missingImages: a task of that image cannot be pulled', async () => {
    h.local.faults.set({ missingImages: ['wwhd-dev-backend:gone'] })
    const arn = await runOne([{ name: 'api', image: '127.0.0.1:5000/wwhd-dev-backend:gone' }])
    const task = await whenStopped(arn)
    expect(task.stoppedReason).toBe(
      'CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 127.0.0.1:5000/wwhd-dev-backend:gone: 127.0.0.1:5000/wwhd-dev-backend:gone: not found',
    )
    expect(task.containers?.[0]?.exitCode).toBeUndefined()
    h.local.faults.set({})
  })

  it('crashAfterSeconds: tasks started from now on lose their essential containers', async () => {
    h.local.faults.set({ crashAfterSeconds: 0.1 })
    const arn = await runOne([{ name: 'api', image: 'app:1' }])
    h.local.faults.set({})
    const task = await whenStopped(arn)
    expect(task).toMatchObject({
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
    })
    expect(task.containers?.[0]?.exitCode).toBe(1)
    expect((task.stoppedAt as Date).getTime() - (task.startedAt as Date).getTime()).toBeGreaterThanOrEqual(
      100,
    )
  })

  it('slowStopSeconds: a stopping task keeps its containers up that much longer', async () => {
    const arn = await runOne([{ name: 'api', image: 'app:1' }])
    await until(async () => (await describeTasks(h.clients.ecs, [arn]))[0]?.lastStatus === 'RUNNING')
    h.local.faults.set({ slowStopSeconds: 0.3 })
    await h.clients.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }))
    await whenStopped(arn)
    h.local.faults.set({})
    const history = h.local.report().timelines.find((t) => t.taskArn === arn)?.history ?? []
    const at = (status: string) => Date.parse(history.find((s) => s.status === status)?.at as string)
    expect(at('DEPROVISIONING') - at('STOPPING')).toBeGreaterThanOrEqual(300)
    const lifetime = h.local.monitor.lifetimes().find((l) => l.taskArn === arn)
    expect((lifetime?.to as number) - at('STOPPING')).toBeGreaterThanOrEqual(300)
    expect((await describeTasks(h.clients.ecs, [arn]))[0]?.stoppedReason).toBe('Task stopped by user')
  })
})

describe('container health', () => {
  it('reports HEALTHY once the check passes (UNKNOWN before), and the task follows its essential containers', async () => {
    const arn = await runOne([
      { name: 'api', image: 'warming:1', healthCheck: HEALTH_CHECK },
      { name: 'sidecar', image: 'sick:1', essential: false, healthCheck: HEALTH_CHECK },
    ])
    const early = await until(async () => {
      const [task] = await describeTasks(h.clients.ecs, [arn])
      return task?.lastStatus === 'RUNNING' && task
    })
    expect(early.healthStatus).toBe('UNKNOWN')
    const healthy = await until(async () => {
      const [task] = await describeTasks(h.clients.ecs, [arn])
      return task?.healthStatus === 'HEALTHY' && task?.containers?.[1]?.healthStatus === 'UNHEALTHY' && task
    })
    // The non-essential sidecar is UNHEALTHY; the task's health is its essential container's.
    expect(healthy.containers?.map((c) => [c.name, c.healthStatus])).toEqual([
      ['api', 'HEALTHY'],
      ['sidecar', 'UNHEALTHY'],
    ])
    await h.clients.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }))
  })

  it('replaces a service task whose essential container turns UNHEALTHY, after the grace period', async () => {
    const { ecs } = h.clients
    const td = await registerTaskDefinition(ecs, [
      { name: 'api', image: 'sick:1', healthCheck: HEALTH_CHECK },
    ])
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'sick',
        taskDefinition: td,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
        healthCheckGracePeriodSeconds: 30,
      }),
    )
    const replaced = await until(async () => {
      const stopped = await describeTasks(ecs, await tasksOf(ecs, 'sick', 'STOPPED'))
      return stopped[0]
    })
    expect(replaced).toMatchObject({
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Task failed container health checks',
      containers: [expect.objectContaining({ healthStatus: 'UNHEALTHY' })],
    })
    // Two failures 50 ms apart would make it UNHEALTHY at ~100 ms; the 30 s grace (300 ms here) held it.
    expect(
      (replaced.stoppingAt as Date).getTime() - (replaced.startedAt as Date).getTime(),
    ).toBeGreaterThanOrEqual(300)
    const events = messages(await describeService(ecs, 'sick'))
    expect(events).toContain(
      `(service sick) (task ${replaced.taskArn?.split('/').pop()}) failed container health checks.`,
    )
  })
})

describe('launch prerequisites', () => {
  it('fails a task whose image is under the registry host but was never pushed, as a pull would', async () => {
    const image = `${h.local.registryHost}/wwhd-dev-backend:never-pushed`
    const task = await whenStopped(await runOne([{ name: 'api', image }]))
    expect(task.stopCode).toBe('TaskFailedToStart')
    expect(task.stoppedReason).toBe(
      `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${image}: ${image}: not found`,
    )
    // ECR's own host names point at the same registry.
    const ecr = await whenStopped(
      await runOne([{ name: 'api', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/nothing:v1' }]),
    )
    expect(ecr.stoppedReason).toMatch(/^CannotPullContainerError: .*nothing:v1: not found$/)
  })

  it('fails a task whose secret has no value, and runs it once the value is given', async () => {
    const container: ContainerDefinition = {
      name: 'api',
      image: 'app:1',
      secrets: [
        {
          name: 'JWT_SECRET',
          valueFrom: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:wwhd/jwt-AbCdEf',
        },
      ],
    }
    const failed = await whenStopped(await runOne([container]))
    expect(failed.stopCode).toBe('TaskFailedToStart')
    expect(failed.stoppedReason).toMatch(
      /^ResourceInitializationError: unable to pull secrets or registry auth: .*wwhd\/jwt-AbCdEf.*Secrets Manager can't find the specified secret\.$/,
    )
    h.local.setSecrets({ 'wwhd/jwt': 'not-a-real-secret' })
    const arn = await runOne([container])
    await until(async () => (await describeTasks(h.clients.ecs, [arn]))[0]?.lastStatus === 'RUNNING')
  })

  it('fails an awslogs task whose log group is missing, unless awslogs-create-group is "true"', async () => {
    const logConfiguration = (create: boolean) => ({
      logDriver: 'awslogs' as const,
      options: {
        'awslogs-group': '/ecs/not-created',
        'awslogs-region': 'us-east-1',
        'awslogs-stream-prefix': 'api',
        ...(create ? { 'awslogs-create-group': 'true' } : {}),
      },
    })
    const failed = await whenStopped(
      await runOne([{ name: 'api', image: 'app:1', logConfiguration: logConfiguration(false) }]),
    )
    expect(failed.stoppedReason).toContain(
      'ResourceNotFoundException: The specified log group does not exist.',
    )
    const arn = await runOne([{ name: 'api', image: 'app:1', logConfiguration: logConfiguration(true) }])
    await until(async () => (await describeTasks(h.clients.ecs, [arn]))[0]?.lastStatus === 'RUNNING')
    const groups = await h.clients.logs.send(
      new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/not-created' }),
    )
    expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual(['/ecs/not-created'])
  })
})
