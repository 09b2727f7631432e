import * as core from '@actions/core'
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import {
  DescribeServicesCommand,
  ECSClient,
  DescribeTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type CapacityProviderStrategyItem,
  type ContainerOverride,
  type LaunchType,
  type NetworkConfiguration,
  type Service,
  type Task,
  type TaskDefinition,
} from '@aws-sdk/client-ecs'
import * as log from '@ecs-lockstep/core/log'
import { ActionError, errorMessage } from '@ecs-lockstep/core/errors'
import { RequestError } from '@ecs-lockstep/core/inputs'
import { clientConfig } from '@ecs-lockstep/core/aws/clients'
import { aws, awsErrorName } from '@ecs-lockstep/core/aws/errors'
import { waitFor } from '@ecs-lockstep/core/wait'
import type { AwsClients } from './clients.ts'
import { containerLog, LOG_LINES } from './diagnose.ts'
import { tolerateTransient } from './poll.ts'
import { cleanupBudget, type Budget } from './budget.ts'
import { describeService } from './service.ts'
import { shortRevision } from './task-definition.ts'
import { describeStoppedTask, describeTasks, isStopped, listClusterTasks, taskId } from './tasks.ts'

/** What a one-off task needs: ECS, and Logs for the containers' log tails. */
export type OneOffClients = Pick<AwsClients, 'ecs' | 'logs' | 'region'>

/** Only these two: run-task's bundle carries no ECR, STS or ELB client. */
export function createOneOffClients(region: string): OneOffClients {
  const config = clientConfig(region)
  return { ecs: new ECSClient(config), logs: new CloudWatchLogsClient(config), region }
}

/** GITHUB_STATE key: the task the main step started and had not yet seen STOPPED. */
export const ONE_OFF_STATE = 'one-off-task'

export interface OneOffRequest {
  cluster: string
  taskDefinition: string
  /** The service whose network configuration and launch settings are copied, and which must be drained. */
  service: string | undefined
  containerOverrides: ContainerOverride[]
  launchType: LaunchType | undefined
  capacityProvider: string | undefined
  networkConfiguration: NetworkConfiguration | undefined
  requireDrained: 'auto' | 'true' | 'false'
}

/** Everything decided before the task starts: read from AWS, nothing changed yet. */
export interface OneOffPlan {
  definition: TaskDefinition
  service: Service | undefined
  launch: {
    launchType?: LaunchType
    capacityProviderStrategy?: CapacityProviderStrategyItem[]
    platformVersion?: string
    networkConfiguration?: NetworkConfiguration
  }
  /** EFS file systems the task mounts: what "drained" is checked against. */
  fileSystems: string[]
  requireDrained: boolean
}

/** A task that is not STOPPED and would share the one-off task's volumes, and why it counts. */
export interface Holder {
  task: Task
  why: string
}

export interface OneOffResult {
  task: Task
  /** The exit code the step reports: the first failing essential container's, else 0. */
  exitCode: number | undefined
  /** Why the task counts as failed; empty when every essential container exited 0. */
  failures: string[]
}

function efsFileSystems(definition: TaskDefinition): string[] {
  return [
    ...new Set(
      (definition.volumes ?? [])
        .map((v) => v.efsVolumeConfiguration?.fileSystemId)
        .filter((id): id is string => Boolean(id)),
    ),
  ]
}

async function describeDefinition(clients: OneOffClients, reference: string): Promise<TaskDefinition> {
  try {
    const reply = await aws(`describing task definition ${reference}`, () =>
      clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: reference })),
    )
    if (reply.taskDefinition) return reply.taskDefinition
  } catch (error) {
    if (awsErrorName((error as { cause?: unknown }).cause) !== 'ClientException') throw error
  }
  throw new RequestError(
    'taskDefinition',
    reference,
    `there is no such task definition in ${clients.region}: expected a registered family, family:revision or task definition ARN`,
  )
}

/**
 * Reads the task definition (and the service when given), checks the overrides against it and
 * settles how the task is launched. Only reads: a wrong input fails here, before anything starts.
 */
export async function planOneOff(clients: OneOffClients, request: OneOffRequest): Promise<OneOffPlan> {
  const definition = await describeDefinition(clients, request.taskDefinition)
  if (definition.status !== 'ACTIVE')
    throw new RequestError(
      'taskDefinition',
      request.taskDefinition,
      `that revision is ${definition.status}: expected an ACTIVE revision (ECS runs no task from a deregistered one)`,
    )
  const containers = (definition.containerDefinitions ?? []).map((c) => c.name)
  for (const override of request.containerOverrides) {
    if (!containers.includes(override.name))
      throw new RequestError(
        'containerOverrides',
        override.name ?? '',
        `${shortRevision(definition.taskDefinitionArn)} has no container of that name: expected one of ${containers.join(', ')}`,
      )
  }
  const service = request.service
    ? await describeService(clients, { cluster: request.cluster, service: request.service })
    : undefined

  const launch: OneOffPlan['launch'] = {}
  if (request.capacityProvider) {
    launch.capacityProviderStrategy = [{ capacityProvider: request.capacityProvider, weight: 1 }]
  } else if (request.launchType) {
    launch.launchType = request.launchType
  } else if (service?.capacityProviderStrategy?.length) {
    launch.capacityProviderStrategy = service.capacityProviderStrategy
  } else if (service?.launchType) {
    launch.launchType = service.launchType
  } else {
    launch.launchType = definition.requiresCompatibilities?.includes('FARGATE') ? 'FARGATE' : 'EC2'
  }
  if (service?.platformVersion && service.platformVersion !== 'LATEST')
    launch.platformVersion = service.platformVersion
  const networkConfiguration = request.networkConfiguration ?? service?.networkConfiguration
  if (networkConfiguration) launch.networkConfiguration = networkConfiguration
  else if (definition.networkMode === 'awsvpc')
    throw new RequestError(
      'networkConfiguration',
      '',
      `${shortRevision(definition.taskDefinitionArn)} uses awsvpc networking, which needs subnets: give network-configuration, or service to copy it from`,
    )

  const fileSystems = efsFileSystems(definition)
  const requireDrained =
    request.requireDrained === 'true' || (request.requireDrained === 'auto' && fileSystems.length > 0)
  if (request.requireDrained === 'true' && fileSystems.length === 0 && !service)
    throw new RequestError(
      'requireDrained',
      'true',
      `${shortRevision(definition.taskDefinitionArn)} mounts no EFS volume and no service is given: nothing to check it against (set service)`,
    )
  return { definition, service, launch, fileSystems, requireDrained }
}

/**
 * The tasks that would be alive beside the one-off task on its volumes: every task of the service
 * (any revision) and every other task of the cluster mounting one of the same EFS file systems, that
 * is not yet STOPPED. A stopping task (desired STOPPED) still holds its files, so both lists count.
 */
export async function findHolders(
  clients: OneOffClients,
  cluster: string,
  plan: Pick<OneOffPlan, 'service' | 'fileSystems'>,
  except?: string,
): Promise<Holder[]> {
  const arns = (await listClusterTasks(clients, cluster)).filter((arn) => arn !== except)
  if (arns.length === 0) return []
  const alive = (await describeTasks(clients, cluster, arns)).filter((t) => !isStopped(t))
  const volumes = new Map<string, string[]>()
  const holders: Holder[] = []
  for (const task of alive) {
    if (plan.service && task.group === `service:${plan.service.serviceName}`) {
      holders.push({ task, why: `a task of service ${plan.service.serviceName}` })
      continue
    }
    if (plan.fileSystems.length === 0) continue
    const arn = task.taskDefinitionArn as string
    if (!volumes.has(arn)) {
      const reply = await aws(`describing task definition ${shortRevision(arn)}`, () =>
        clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })),
      )
      volumes.set(arn, reply.taskDefinition ? efsFileSystems(reply.taskDefinition) : [])
    }
    const shared = (volumes.get(arn) ?? []).filter((id) => plan.fileSystems.includes(id))
    if (shared.length > 0) holders.push({ task, why: `mounts ${shared.join(', ')}` })
  }
  return holders
}

export function describeHolder({ task, why }: Holder): string {
  const stopping = task.desiredStatus === 'STOPPED' ? ', stopping' : ''
  return `task ${taskId(task.taskArn)} (${shortRevision(task.taskDefinitionArn)}, ${task.lastStatus}${stopping}): ${why}`
}

/** The refusal when the volumes are not free: what holds them, and how to free them the lock-safe way. */
export function holdersError(holders: Holder[], plan: OneOffPlan): ActionError {
  const lines = holders.slice(0, 10).map((h) => `- ${describeHolder(h)}`)
  if (holders.length > 10) lines.push(`- and ${holders.length - 10} more`)
  const service = plan.service?.serviceName
  return new ActionError(
    `Refusing to start ${shortRevision(plan.definition.taskDefinitionArn)}: ${holders.length} task(s) that share its volumes are not STOPPED, and two tasks must never hold a single-writer volume at once. Nothing was started.\n${lines.join('\n')}`,
    {
      hint: service
        ? `Stop the service first and wait until its tasks are STOPPED: run ecs-lockstep's drain-and-deploy with desired-count: 0 on ${service} before this step (backend-operations.yml does). Set require-drained: false only if the task never opens those files.`
        : 'Stop those tasks first and wait until they are STOPPED (drain-and-deploy with desired-count: 0 for a service). Set require-drained: false only if the task never opens those files.',
    },
  )
}

/** Starts the task; ECS's own refusals (no capacity, a missing image role) become the error. */
export async function startOneOff(
  clients: OneOffClients,
  request: OneOffRequest,
  plan: OneOffPlan,
): Promise<Task> {
  const reply = await aws(`starting a task of ${shortRevision(plan.definition.taskDefinitionArn)}`, () =>
    clients.ecs.send(
      new RunTaskCommand({
        cluster: request.cluster,
        taskDefinition: plan.definition.taskDefinitionArn,
        count: 1,
        startedBy: 'ecs-lockstep/run-task',
        ...plan.launch,
        ...(request.containerOverrides.length > 0
          ? { overrides: { containerOverrides: request.containerOverrides } }
          : {}),
      }),
    ),
  )
  const task = reply.tasks?.[0]
  if (!task?.taskArn) {
    const failure = reply.failures?.[0]
    throw new ActionError(
      `ECS did not start the task: ${failure?.reason ?? 'no reason given'}${failure?.detail ? ` (${failure.detail})` : ''}.`,
      {
        hint: 'RESOURCE:* means the cluster has no room for it (cpu, memory, ports); check the capacity provider or launch type.',
      },
    )
  }
  return task
}

async function describeOne(clients: OneOffClients, cluster: string, arn: string): Promise<Task | undefined> {
  return (await describeTasks(clients, cluster, [arn]))[0]
}

/**
 * Waits for the task to be STOPPED, logging each state change once. With `watch`, each poll also
 * reads the service, and the task is cut short if the service starts a task meanwhile: the one-off
 * task and the service must not hold the volume together.
 */
export async function waitUntilStopped(
  clients: OneOffClients,
  cluster: string,
  arn: string,
  budget: Budget,
  watch?: { service: string },
): Promise<Task> {
  return waitFor({
    what: `task ${taskId(arn)} to stop`,
    deadline: budget.deadline,
    signal: budget.signal,
    interval: budget.poll,
    observe: tolerateTransient(async () => {
      const [task, service] = await Promise.all([
        describeOne(clients, cluster, arn),
        watch
          ? aws(`describing service ${watch.service}`, () =>
              clients.ecs.send(new DescribeServicesCommand({ cluster, services: [watch.service] })),
            ).then((r) => r.services?.[0])
          : undefined,
      ])
      if (!task) throw new ActionError(`ECS no longer knows task ${taskId(arn)} (expired from its records).`)
      budget.tracker.observe([task])
      if (isStopped(task)) return { done: true, value: task }
      const started = (service?.runningCount ?? 0) + (service?.pendingCount ?? 0)
      if (watch && started > 0)
        throw new ServiceStartedError(watch.service, started, service?.desiredCount ?? 0)
      return { done: false, progress: `${task.lastStatus}` }
    }),
  })
}

export class ServiceStartedError extends ActionError {
  constructor(service: string, started: number, desired: number) {
    super(
      `Service ${service} started ${started} task(s) (desired ${desired}) while the one-off task was running: they would share its volumes.`,
    )
  }
}

/** Asks ECS to stop the task; already stopping or stopped is fine. */
export async function stopOneOff(clients: OneOffClients, cluster: string, arn: string, reason: string) {
  try {
    await aws(`stopping task ${taskId(arn)}`, () =>
      clients.ecs.send(new StopTaskCommand({ cluster, task: arn, reason })),
    )
  } catch (error) {
    log.warning(`Could not stop task ${taskId(arn)}: ${errorMessage(error)}`)
  }
}

/**
 * Whether the task did its job: every essential container exited 0. A container with no exit code
 * never ran (the image did not pull, a secret did not resolve) and fails the task too.
 */
export function judgeOneOff(task: Task, definition: TaskDefinition): OneOffResult {
  const essential = new Set(
    (definition.containerDefinitions ?? []).filter((c) => c.essential !== false).map((c) => c.name),
  )
  const failures: string[] = []
  let exitCode: number | undefined
  for (const container of task.containers ?? []) {
    if (!essential.has(container.name)) {
      if (typeof container.exitCode === 'number' && container.exitCode !== 0)
        log.warning(`Container ${container.name} (not essential) exited ${container.exitCode}.`)
      continue
    }
    if (typeof container.exitCode !== 'number') {
      failures.push(
        `${container.name} never ran or was not seen exiting${container.reason ? ` (${container.reason})` : ''}`,
      )
    } else if (container.exitCode !== 0) {
      failures.push(
        `${container.name} exited ${container.exitCode}${container.reason ? ` (${container.reason})` : ''}`,
      )
      exitCode ??= container.exitCode
    }
  }
  if (exitCode === undefined && failures.length === 0) exitCode = 0
  if (task.stopCode === 'TaskFailedToStart' && failures.length === 0)
    failures.push(`the task failed to start: ${task.stoppedReason ?? 'no reason given'}`)
  return { task, exitCode, failures }
}

/** The containers' log tails, printed in a group each; returns them for the summary. */
export async function printLogTails(
  clients: OneOffClients,
  task: Task,
  definition: TaskDefinition,
): Promise<{ title: string; lines: string }[]> {
  const tails: { title: string; lines: string }[] = []
  for (const container of definition.containerDefinitions ?? []) {
    const lines = await containerLog(clients, task, container)
    if (!lines) continue
    const title = `Last ${LOG_LINES} log lines of ${container.name}`
    core.startGroup(title)
    log.info(lines)
    core.endGroup()
    tails.push({ title, lines })
  }
  if (tails.length === 0)
    log.info('No log tail: no container of the task definition logs to CloudWatch Logs (awslogs).')
  return tails
}

export function saveOneOffState(point: { cluster: string; region: string; taskArn: string }): void {
  core.saveState(ONE_OFF_STATE, JSON.stringify(point))
}

export function clearOneOffState(): void {
  core.saveState(ONE_OFF_STATE, '')
}

/**
 * After a cancel or a timeout: stop the task and wait, within `until`, for it to be STOPPED, so the
 * step's message can say which state it left (read back, never assumed).
 */
export async function stopAndConfirm(
  clients: OneOffClients,
  cluster: string,
  arn: string,
  reason: string,
  until: number,
  from: Budget,
): Promise<{ stopped: boolean; line: string }> {
  await stopOneOff(clients, cluster, arn, reason)
  const budget = cleanupBudget(from, () => until)
  try {
    const task = await waitUntilStopped(clients, cluster, arn, budget)
    return { stopped: true, line: `${describeStoppedTask(task)} (read back from ECS)` }
  } catch {
    const task = await describeOne(clients, cluster, arn).catch(() => undefined)
    return {
      stopped: task?.lastStatus === 'STOPPED',
      line: `task ${taskId(arn)} is ${task?.lastStatus ?? 'in an unknown state'}${task?.desiredStatus === 'STOPPED' ? ' (desired STOPPED)' : ''} (read back from ECS)`,
    }
  }
}
