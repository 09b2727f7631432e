import {
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UpdateServiceCommand,
  type Deployment,
  type Service,
  type Task,
  type TaskDefinition,
} from '@aws-sdk/client-ecs'
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { DescribeImagesCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr'
import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'

/**
 * A scripted ECS for unit tests of the deploy logic: one service whose tasks move through the ECS
 * lifecycle on a timetable (in milliseconds) that each test sets, behind aws-sdk-client-mock.
 * It is deliberately small: it only knows what the decision logic reads.
 */

export const ACCOUNT = '123456789012'
export const REGION = 'us-east-1'
export const CLUSTER = 'wwhd-cluster'
export const SERVICE = 'wwhd-backend'
export const TARGET_GROUP = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/wwhd/abc`
export const ECR_HOST = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`

export const tdArn = (revision: number) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/wwhd-backend:${revision}`

/** How a started task of a revision behaves. */
export interface LaunchScript {
  pendingMs: number
  runningMs: number
  /** Health check outcome when the revision defines one; undefined: no health check. */
  healthyAfterMs?: number
  /** The essential container exits (code 1) this long after RUNNING. */
  crashAfterMs?: number
  /** With crashAfterMs: the deployment first completes (it crashes after turning healthy). */
  healthyBeforeCrash?: boolean
  crashReason?: string
  /** The task never gets to RUNNING: it stops after PENDING with this stoppedReason (TaskFailedToStart). */
  failToStart?: string
}

/** How a stopping task walks to STOPPED: the drain the deploy must wait out. */
export interface StopScript {
  deactivatingMs: number
  stoppingMs: number
}

interface Timed {
  at: number
  apply: () => void
}

export interface ScriptOptions {
  revisions: number[]
  currentRevision: number
  runningTasks: number
  launch?: Record<number, LaunchScript>
  stop?: StopScript
  circuitBreaker?: { enable: boolean; rollback: boolean }
  deregistrationDelaySeconds?: number
  efs?: boolean
  healthCheck?: boolean
  /** Images in ECR, as repository:tag. */
  ecrImages?: string[]
  tags?: Record<string, string>
  /** Extra deployments already on the service (a deployment in progress). */
  inProgressUntilMs?: number
}

let counter = 0

export class ScriptedEcs {
  readonly ecs = mockClient(ECSClient)
  readonly elb = mockClient(ElasticLoadBalancingV2Client)
  readonly ecr = mockClient(ECRClient)
  readonly sts = mockClient(STSClient)
  readonly logs = mockClient(CloudWatchLogsClient)
  readonly started = Date.now()
  readonly tasks = new Map<string, Task>()
  readonly definitions = new Map<string, TaskDefinition>()
  readonly calls: { at: number; name: string; input: Record<string, unknown> }[] = []
  service: Service
  tags: Record<string, string>
  private timers: Timed[] = []
  private readonly options: ScriptOptions

  constructor(options: ScriptOptions) {
    this.options = options
    for (const revision of options.revisions) this.definitions.set(tdArn(revision), this.definition(revision))
    this.tags = { ...options.tags }
    const deployment = this.newDeployment(options.currentRevision, options.runningTasks, 'COMPLETED')
    this.service = {
      serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`,
      serviceName: SERVICE,
      status: 'ACTIVE',
      taskDefinition: tdArn(options.currentRevision),
      desiredCount: options.runningTasks,
      deployments: [deployment],
      events: [],
      loadBalancers: [{ targetGroupArn: TARGET_GROUP, containerName: 'api', containerPort: 8000 }],
      deploymentConfiguration: {
        minimumHealthyPercent: 0,
        maximumPercent: 100,
        deploymentCircuitBreaker: options.circuitBreaker ?? { enable: false, rollback: false },
      },
    }
    if (options.inProgressUntilMs !== undefined) {
      const other = this.newDeployment(options.currentRevision, options.runningTasks, 'IN_PROGRESS')
      other.status = 'ACTIVE'
      this.service.deployments?.push(other)
      this.at(options.inProgressUntilMs, () => {
        this.service.deployments = this.service.deployments?.filter((d) => d.status === 'PRIMARY')
      })
    }
    for (let i = 0; i < options.runningTasks; i++) {
      const task = this.newTask(options.currentRevision, deployment.id as string)
      Object.assign(task, {
        lastStatus: 'RUNNING',
        healthStatus: options.healthCheck ? 'HEALTHY' : 'UNKNOWN',
      })
    }
    this.install()
  }

  private definition(revision: number): TaskDefinition {
    return {
      taskDefinitionArn: tdArn(revision),
      family: 'wwhd-backend',
      revision,
      status: 'ACTIVE',
      containerDefinitions: [
        {
          name: 'api',
          image: `${ECR_HOST}/wwhd-dev-backend:rev${revision}`,
          essential: true,
          ...(this.options.healthCheck ? { healthCheck: { command: ['CMD', '/app/healthcheck'] } } : {}),
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': '/ecs/wwhd-backend',
              'awslogs-stream-prefix': 'fastapi',
              'awslogs-region': REGION,
            },
          },
        },
        { name: 'qdrant', image: 'qdrant/qdrant:latest', essential: true },
      ],
      volumes: this.options.efs
        ? [{ name: 'database', efsVolumeConfiguration: { fileSystemId: 'fs-0421d6926b3c7056d' } }]
        : [],
      requiresAttributes: [{ name: 'ecs.capability.efsAuth' }],
      compatibilities: ['EC2', 'FARGATE'],
      registeredAt: new Date(),
    }
  }

  now(): number {
    return Date.now() - this.started
  }

  private at(ms: number, apply: () => void): void {
    this.timers.push({ at: this.now() + ms, apply })
  }

  /** Applies every scheduled transition whose time has come, in order. */
  private advance(): void {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at)
      const next = this.timers[0]
      if (!next || next.at > this.now()) return
      this.timers.shift()
      next.apply()
    }
  }

  private event(message: string): void {
    this.service.events?.unshift({
      id: String(++counter),
      createdAt: new Date(),
      message: `(service ${SERVICE}) ${message}`,
    })
  }

  private newDeployment(
    revision: number,
    desired: number,
    rolloutState: 'IN_PROGRESS' | 'COMPLETED',
  ): Deployment {
    return {
      id: `ecs-svc/${String(++counter).padStart(19, '1')}`,
      status: 'PRIMARY',
      taskDefinition: tdArn(revision),
      desiredCount: desired,
      runningCount: 0,
      failedTasks: 0,
      rolloutState,
      createdAt: new Date(),
    }
  }

  private newTask(revision: number, startedBy: string): Task {
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${CLUSTER}/${(++counter).toString(16).padStart(32, '0')}`
    const task: Task = {
      taskArn: arn,
      taskDefinitionArn: tdArn(revision),
      group: `service:${SERVICE}`,
      startedBy,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      healthStatus: 'UNKNOWN',
      containers: [
        { name: 'api', lastStatus: 'PENDING' },
        { name: 'qdrant', lastStatus: 'PENDING' },
      ],
      createdAt: new Date(),
    }
    this.tasks.set(arn, task)
    return task
  }

  private stopTask(task: Task, reason: string, stopCode: Task['stopCode'], exitCode?: number): void {
    if (task.desiredStatus === 'STOPPED') return
    const script = this.options.stop ?? { deactivatingMs: 0, stoppingMs: 0 }
    task.desiredStatus = 'STOPPED'
    task.stoppedReason = reason
    task.stopCode = stopCode
    const finish = () => {
      task.lastStatus = 'STOPPED'
      task.stoppedAt = new Date()
      task.executionStoppedAt ??= task.stoppedAt
      for (const c of task.containers ?? []) {
        c.lastStatus = 'STOPPED'
        // Containers that never ran (a failed launch, a task stopped before RUNNING) have no exit code.
        if (task.startedAt) c.exitCode ??= c.name === 'api' && exitCode !== undefined ? exitCode : 0
      }
    }
    if (stopCode === 'EssentialContainerExited') return finish()
    task.lastStatus = 'DEACTIVATING'
    this.at(script.deactivatingMs, () => {
      task.lastStatus = 'STOPPING'
      this.at(script.stoppingMs, finish)
    })
  }

  private launch(revision: number, deployment: Deployment): void {
    const script = this.options.launch?.[revision] ?? { pendingMs: 0, runningMs: 0 }
    const task = this.newTask(revision, deployment.id as string)
    this.event(`has started 1 tasks: (task ${task.taskArn?.split('/').pop()}).`)
    this.at(script.pendingMs, () => {
      if (task.desiredStatus === 'STOPPED') return
      task.lastStatus = 'PENDING'
      if (script.failToStart) {
        this.at(script.runningMs, () => {
          if (task.desiredStatus === 'STOPPED') return
          this.stopTask(task, script.failToStart as string, 'TaskFailedToStart')
          task.lastStatus = 'STOPPED'
          task.stoppedAt = new Date()
          deployment.failedTasks = (deployment.failedTasks ?? 0) + 1
          if (deployment.status === 'PRIMARY') this.launch(revision, deployment)
        })
        return
      }
      this.at(script.runningMs, () => {
        if (task.desiredStatus === 'STOPPED') return
        task.lastStatus = 'RUNNING'
        task.startedAt = new Date()
        task.pullStoppedAt = task.startedAt
        for (const c of task.containers ?? []) c.lastStatus = 'RUNNING'
        if (script.crashAfterMs !== undefined) {
          if (script.healthyBeforeCrash) this.settle(deployment)
          this.at(script.crashAfterMs, () => this.crash(task, revision, deployment, script))
        } else if (script.healthyAfterMs !== undefined) {
          this.at(script.healthyAfterMs, () => {
            task.healthStatus = 'HEALTHY'
            this.settle(deployment)
          })
        } else {
          this.settle(deployment)
        }
      })
    })
  }

  private crash(task: Task, revision: number, deployment: Deployment, script: LaunchScript): void {
    const api = task.containers?.find((c) => c.name === 'api')
    if (api) api.reason = script.crashReason ?? 'Error: database is locked'
    this.stopTask(task, 'Essential container in task exited', 'EssentialContainerExited', 1)
    deployment.failedTasks = (deployment.failedTasks ?? 0) + 1
    const breaker = this.service.deploymentConfiguration?.deploymentCircuitBreaker
    if (breaker?.enable && (deployment.failedTasks ?? 0) >= 3) {
      deployment.rolloutState = 'FAILED'
      deployment.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.'
      this.event(`(deployment ${deployment.id}) deployment failed: tasks failed to start.`)
      if (breaker.rollback) {
        const previous = this.options.currentRevision
        this.event(`(deployment ${deployment.id}) rolling back to deployment of ${previous}.`)
        const back = this.newDeployment(previous, deployment.desiredCount ?? 1, 'IN_PROGRESS')
        deployment.status = 'ACTIVE'
        this.service.deployments?.unshift(back)
        this.service.taskDefinition = tdArn(previous)
        this.launch(previous, back)
      }
      return
    }
    if (deployment.status === 'PRIMARY') this.launch(revision, deployment)
  }

  /** The primary deployment completes once its tasks run (and are healthy when checked). */
  private settle(deployment: Deployment): void {
    const tasks = [...this.tasks.values()].filter(
      (t) => t.startedBy === deployment.id && t.lastStatus === 'RUNNING',
    )
    const ready = tasks.filter((t) => !this.options.healthCheck || t.healthStatus === 'HEALTHY')
    deployment.runningCount = tasks.length
    if (ready.length >= (deployment.desiredCount ?? 0) && deployment.status === 'PRIMARY') {
      deployment.rolloutState = 'COMPLETED'
      this.service.deployments = this.service.deployments?.filter((d) => d.id === deployment.id)
      this.event('has reached a steady state.')
    }
  }

  private update(input: {
    taskDefinition?: string
    desiredCount?: number
    forceNewDeployment?: boolean
  }): Service {
    const primary = this.service.deployments?.find((d) => d.status === 'PRIMARY') as Deployment
    if (input.desiredCount !== undefined) this.service.desiredCount = input.desiredCount
    const revision = Number((input.taskDefinition ?? this.service.taskDefinition)?.split(':').pop())
    const newDefinition = input.taskDefinition && input.taskDefinition !== this.service.taskDefinition
    if (newDefinition || input.forceNewDeployment) {
      primary.status = 'ACTIVE'
      const deployment = this.newDeployment(revision, this.service.desiredCount ?? 0, 'IN_PROGRESS')
      this.service.deployments?.unshift(deployment)
      this.service.taskDefinition = tdArn(revision)
      for (const task of this.tasks.values()) {
        if (task.desiredStatus === 'RUNNING' && task.startedBy !== deployment.id) {
          this.stopTask(
            task,
            'Scaling activity initiated by (deployment ' + deployment.id + ')',
            'ServiceSchedulerInitiated',
          )
        }
      }
      for (let i = 0; i < (this.service.desiredCount ?? 0); i++) this.launch(revision, deployment)
      if ((this.service.desiredCount ?? 0) === 0) this.settle(deployment)
    } else if (input.desiredCount === 0) {
      for (const task of this.tasks.values()) {
        if (task.desiredStatus === 'RUNNING')
          this.stopTask(
            task,
            'Scaling activity initiated by (deployment ' + primary.id + ')',
            'ServiceSchedulerInitiated',
          )
      }
      primary.desiredCount = 0
    } else if (input.desiredCount !== undefined) {
      primary.desiredCount = input.desiredCount
      for (let i = 0; i < input.desiredCount; i++) this.launch(revision, primary)
    }
    return structuredClone(this.service)
  }

  private record(name: string, input: Record<string, unknown>): void {
    this.advance()
    this.calls.push({ at: this.now(), name, input })
  }

  callsTo(name: string): { at: number; input: Record<string, unknown> }[] {
    return this.calls.filter((c) => c.name === name)
  }

  private install(): void {
    this.sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/ci` })
    this.ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: Buffer.from('AWS:pw').toString('base64'),
          proxyEndpoint: `https://${ECR_HOST}`,
        },
      ],
    })
    this.ecr
      .on(DescribeImagesCommand)
      .callsFake((input: { repositoryName: string; imageIds: { imageTag?: string }[] }) => {
        this.record('DescribeImages', input)
        const ref = `${input.repositoryName}:${input.imageIds[0]?.imageTag}`
        if (this.options.ecrImages && !this.options.ecrImages.includes(ref)) {
          throw Object.assign(
            new Error(`The image with imageId {imageTag:'${input.imageIds[0]?.imageTag}'} does not exist`),
            {
              name: 'ImageNotFoundException',
            },
          )
        }
        return { imageDetails: [{ imageDigest: 'sha256:' + '0'.repeat(64) }] }
      })
    this.elb.on(DescribeTargetGroupAttributesCommand).resolves({
      Attributes: [
        {
          Key: 'deregistration_delay.timeout_seconds',
          Value: String(this.options.deregistrationDelaySeconds ?? 5),
        },
      ],
    })
    this.elb.on(DescribeTargetGroupsCommand).callsFake((input: { TargetGroupArns?: string[] }) => ({
      TargetGroups: (input.TargetGroupArns ?? []).map((arn) => ({
        TargetGroupArn: arn,
        HealthCheckIntervalSeconds: 5,
      })),
    }))
    this.elb.on(DescribeTargetHealthCommand).callsFake(() => {
      this.record('DescribeTargetHealth', {})
      const live = [...this.tasks.values()].filter(
        (t) => t.lastStatus === 'RUNNING' || t.lastStatus === 'DEACTIVATING',
      )
      return {
        TargetHealthDescriptions: live.map((t) => ({
          Target: { Id: t.taskArn?.split('/').pop(), Port: 8000 },
          TargetHealth: {
            State:
              t.lastStatus === 'DEACTIVATING'
                ? 'draining'
                : !this.options.healthCheck || t.healthStatus === 'HEALTHY'
                  ? 'healthy'
                  : 'initial',
          },
        })),
      }
    })
    this.logs.on(GetLogEventsCommand).callsFake((input: { logStreamName: string }) => {
      this.record('GetLogEvents', input)
      return {
        events: [
          { timestamp: Date.now(), message: `boot ${input.logStreamName}` },
          { timestamp: Date.now(), message: 'sqlite3.OperationalError: database is locked' },
        ],
      }
    })
    this.ecs.on(DescribeClustersCommand).resolves({ clusters: [{ clusterName: CLUSTER, status: 'ACTIVE' }] })
    this.ecs.on(DescribeServicesCommand).callsFake((input: Record<string, unknown>) => {
      this.record('DescribeServices', input)
      const primary = this.service.deployments?.find((d) => d.status === 'PRIMARY')
      if (primary) {
        primary.runningCount = [...this.tasks.values()].filter(
          (t) => t.startedBy === primary.id && t.lastStatus === 'RUNNING',
        ).length
      }
      return {
        services: [
          {
            ...structuredClone(this.service),
            tags: Object.entries(this.tags).map(([key, value]) => ({ key, value })),
          },
        ],
      }
    })
    this.ecs
      .on(ListTagsForResourceCommand)
      .callsFake(() => ({ tags: Object.entries(this.tags).map(([key, value]) => ({ key, value })) }))
    this.ecs.on(TagResourceCommand).callsFake((input: { tags: { key: string; value: string }[] }) => {
      this.record('TagResource', input)
      for (const t of input.tags) this.tags[t.key] = t.value
      return {}
    })
    this.ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
      const reference = input.taskDefinition
      const found =
        this.definitions.get(reference) ??
        [...this.definitions.values()].find(
          (d) => `${d.family}:${d.revision}` === reference || d.family === reference,
        )
      if (!found)
        throw Object.assign(new Error('Unable to describe task definition.'), { name: 'ClientException' })
      return { taskDefinition: structuredClone(found), tags: [] }
    })
    this.ecs.on(ListTaskDefinitionsCommand).callsFake(() => ({
      taskDefinitionArns: [...this.definitions.values()]
        .filter((d) => d.status === 'ACTIVE')
        .sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0))
        .map((d) => d.taskDefinitionArn),
    }))
    this.ecs.on(RegisterTaskDefinitionCommand).callsFake((input: TaskDefinition) => {
      this.record('RegisterTaskDefinition', input as Record<string, unknown>)
      const revision = Math.max(...[...this.definitions.values()].map((d) => d.revision ?? 0)) + 1
      const registered = { ...input, taskDefinitionArn: tdArn(revision), revision, status: 'ACTIVE' as const }
      this.definitions.set(tdArn(revision), registered)
      return { taskDefinition: registered }
    })
    this.ecs.on(UpdateServiceCommand).callsFake((input: Record<string, unknown>) => {
      this.record('UpdateService', input)
      return { service: this.update(input) }
    })
    this.ecs
      .on(ListTasksCommand)
      .callsFake((input: { desiredStatus?: string; startedBy?: string; serviceName?: string }) => {
        this.record('ListTasks', input)
        return {
          taskArns: [...this.tasks.values()]
            .filter((t) => t.desiredStatus === (input.desiredStatus ?? 'RUNNING'))
            .filter((t) => !input.startedBy || t.startedBy === input.startedBy)
            .map((t) => t.taskArn),
        }
      })
    this.ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => this.describeTasks(input))
  }

  /** DescribeTasks as the fake answers it (the timetable advanced, the call recorded): for tests that wrap it. */
  describeTasks(input: { tasks: string[] }): { tasks: Task[] } {
    this.record('DescribeTasks', input)
    return { tasks: input.tasks.map((arn) => structuredClone(this.tasks.get(arn))).filter(Boolean) as Task[] }
  }

  restore(): void {
    for (const mock of [this.ecs, this.elb, this.ecr, this.sts, this.logs]) mock.restore()
  }
}
