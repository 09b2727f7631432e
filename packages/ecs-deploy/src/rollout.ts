import { UpdateServiceCommand, type Service, type Task } from '@aws-sdk/client-ecs'
import * as log from '@ecs-lockstep/core/log'
import { ActionError } from '@ecs-lockstep/core/errors'
import { aws } from '@ecs-lockstep/core/aws/errors'
import { formatDuration } from '@ecs-lockstep/core/time'
import { waitFor } from '@ecs-lockstep/core/wait'
import type { Budget } from './budget.ts'
import type { AwsClients } from './clients.ts'
import { readTargetHealth, targetGroupsOf } from './load-balancer.ts'
import { tolerateTransient } from './poll.ts'
import { describeService, type ServiceRef } from './service.ts'
import { describeStopping, describeTasks, listDeploymentTasks, taskId } from './tasks.ts'

export type WaitFor = 'healthy' | 'running' | 'none'

/** Why a rollout failed, with the kind of failure a summary can name. */
export class RolloutFailure extends ActionError {}

/** A task of the new deployment stopped (or was replaced) before the deployment was stable. */
export class TaskFailure extends RolloutFailure {
  readonly task: Task | undefined

  constructor(message: string, task: Task | undefined) {
    super(message)
    this.task = task
  }
}

/** Starts a call now, for its result later; a failure is only thrown when the result is asked for. */
function settled<T>(promise: Promise<T>): () => Promise<T> {
  promise.catch(() => undefined)
  return () => promise
}

/** When ECS decided to stop the task: the order in which tasks failed. */
export function stopDecidedAt(task: Task): number {
  return (task.stoppingAt ?? task.stoppedAt ?? task.createdAt)?.getTime() ?? 0
}

/** The tasks ECS started for the deployment after `failed` began to stop: its replacements. */
export async function replacementsOf(
  clients: AwsClients,
  ref: ServiceRef,
  deploymentId: string,
  failed: Task,
): Promise<Task[]> {
  const arns = (
    await Promise.all([
      listDeploymentTasks(clients, ref, deploymentId, 'STOPPED'),
      listDeploymentTasks(clients, ref, deploymentId, 'RUNNING'),
    ])
  ).flat()
  const tasks = await describeTasks(clients, ref.cluster, [...new Set(arns)])
  return tasks.filter(
    (t) => t.taskArn !== failed.taskArn && (t.createdAt?.getTime() ?? 0) >= stopDecidedAt(failed),
  )
}

/**
 * Whether any container of the task ran. One that never did (image pull failed, secret missing)
 * opened no file and held no lock: ECS may retry it without anything overlapping.
 */
export function containersRan(task: Task): boolean {
  return task.startedAt !== undefined || (task.containers ?? []).some((c) => typeof c.exitCode === 'number')
}

export interface RolloutTarget {
  taskDefinitionArn: string
  desiredCount: number
  /** ECS only starts a new deployment for an unchanged revision when forced. */
  forceNewDeployment: boolean
  /** Whether task health means something (an essential container defines a health check). */
  healthChecked: boolean
  /**
   * Single-writer: the first new task whose containers ran and that stops ends the attempt at once,
   * since ECS starts its replacement while it is still stopping, on the same volume.
   */
  singleWriter: boolean
  /** `healthy` holds only once the new tasks stayed healthy, unchanged, for this long. */
  stableForMs: number
  /** When the new tasks should be RUNNING, from the last deploy's measurement: polls are slower until shortly before. */
  expectedRunningAt?: number
}

/** Failed launches after which ECS's circuit breaker gives up: half the desired count, 3 to 200. */
export function failureThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(3, Math.ceil(desiredCount * 0.5)))
}

/**
 * Sends the new revision and returns its deployment's id. The service as the reply shows it is
 * left in `progress`: the first look at the rollout needs no DescribeServices of its own.
 */
export async function startDeployment(
  clients: AwsClients,
  ref: ServiceRef,
  target: RolloutTarget,
  progress: RolloutProgress,
): Promise<string> {
  const reply = await aws(`updating ${ref.service} to ${target.taskDefinitionArn.split('/').pop()}`, () =>
    clients.ecs.send(
      new UpdateServiceCommand({
        cluster: ref.cluster,
        service: ref.service,
        taskDefinition: target.taskDefinitionArn,
        desiredCount: target.desiredCount,
        forceNewDeployment: target.forceNewDeployment,
      }),
    ),
  )
  const service = reply.service as Service
  const deployment = service.deployments?.find((d) => d.status === 'PRIMARY')
  if (!deployment?.id) throw new ActionError('ECS accepted the update but reported no primary deployment.')
  progress.last = { at: Date.now(), service, tasks: undefined }
  log.info(
    `Deployment ${deployment.id} started: ${target.desiredCount} task(s) of ${target.taskDefinitionArn.split('/').pop()}.`,
  )
  return deployment.id
}

/** Before the stability window, the deployment's tasks are listed again this often even when nothing moved. */
const FULL_READ_MS = 30_000
/** The service (and in the stability window the targets) is read this often when nothing moved. */
const SERVICE_READ_MS = 6000
/** While only ECS's side is awaited, the tasks are described every this many polls. */
const TASKS_READ_EVERY = 3

/** In the stability window: every 2 s, so a failing task is still seen within 2 s. */
const WINDOW_POLL_MS = 2000
/** Polls do not land on the millisecond: a read due this soon is done now rather than a poll late. */
const POLL_SLACK_MS = 500
/** A look this recent is not repeated when the next wait starts. */
const FRESH_MS = 1000
/** While only the rollout's completion or the first passing target check is awaited. */
const LAST_STEP_POLL_MS = 500
/**
 * Before the tasks' expected start (from a measurement): a look this often, until shortly before
 * it; around it, every half second, so that the start is seen at once even when it comes early.
 */
const SLOW_POLL_MS = 2500
const EXPECTED_POLL_MS = 500
const AROUND_EXPECTED_MS = 1500

/**
 * What DescribeServices says beyond the counts of this deployment's tasks: when it changes,
 * something happened (a deployment started or failed, a task failed, the old tasks changed).
 */
function shapeOf(service: Service, deploymentId: string): string {
  return JSON.stringify([
    service.desiredCount,
    (service.deployments ?? []).map((d) => [
      d.id,
      d.status,
      d.rolloutState,
      d.failedTasks,
      ...(d.id === deploymentId ? [] : [d.runningCount, d.pendingCount]),
    ]),
  ])
}

/** This deployment's counts, which say a task came or went when the known tasks do not explain them. */
function ownCounts(service: Service, deploymentId: string): [number, number] | undefined {
  const deployment = service.deployments?.find((d) => d.id === deploymentId)
  return deployment ? [deployment.runningCount ?? 0, deployment.pendingCount ?? 0] : undefined
}

function countsOfTasks(tasks: Task[]): [number, number] {
  const starting = ['PROVISIONING', 'PENDING', 'ACTIVATING']
  return [
    tasks.filter((t) => t.lastStatus === 'RUNNING').length,
    tasks.filter((t) => t.desiredStatus === 'RUNNING' && starting.includes(t.lastStatus ?? '')).length,
  ]
}

export interface RolloutProgress {
  running: Task[]
  /**
   * What the last look saw, and when: the next wait starts from it rather than reading again
   * what was read a moment ago. `tasks` are the deployment's listed tasks, when they were listed.
   */
  last?: { at: number; service: Service; tasks: Task[] | undefined }
  /** When the new tasks were first all RUNNING, and first all healthy. */
  runningAt?: number
  healthyAt?: number
}

/**
 * Waits for the deployment to reach `until`: its tasks RUNNING, or healthy and stable (rollout
 * COMPLETED, the old deployment gone, every new task HEALTHY where a health check is defined, the
 * load balancer's targets healthy, and all of that unchanged for `stableForMs`: no task stopping,
 * none replaced, none turning unhealthy). A circuit-breaker rollback, a FAILED rollout, new tasks
 * that keep stopping, and in single-writer mode the first new task that ran and stopped are
 * failures, never successes.
 */
export async function waitForDeployment(
  clients: AwsClients,
  ref: ServiceRef,
  target: RolloutTarget,
  deploymentId: string,
  until: 'running' | 'healthy',
  budget: Budget,
  progress: RolloutProgress,
): Promise<void> {
  const reportedStops = new Set<string>()
  const threshold = failureThreshold(target.desiredCount)
  const revision = target.taskDefinitionArn.split('/').pop()
  /** The healthy tasks the stability window watches, and since when. */
  let stable: { since: number; tasks: string[] } | undefined
  let polls = 0
  /** The deployment's tasks (desired RUNNING) as last listed (the running phase's, to begin with), and the service as last read. */
  let known: string[] = progress.running.map((t) => t.taskArn as string)
  let lastService: Service | undefined
  let lastTasks: Task[] = []
  let lastShape: string | undefined
  let lastOwnCounts: string | undefined
  const carried = progress.last && Date.now() - progress.last.at < FRESH_MS ? progress.last : undefined
  let allReadAt = carried?.tasks ? carried.at : 0
  let serviceReadAt = carried?.at ?? 0
  if (carried) {
    lastService = carried.service
    lastShape = shapeOf(carried.service, deploymentId)
    lastOwnCounts = JSON.stringify(ownCounts(carried.service, deploymentId))
    if (carried.tasks) {
      lastTasks = carried.tasks
      known = carried.tasks.map((t) => t.taskArn as string)
    }
  }
  /** The previous poll found every new task ready: only ECS's side and the targets were awaited. */
  let onlyEcsLeft = false
  await waitFor({
    what:
      until === 'healthy'
        ? `${revision} to be healthy${target.stableForMs > 0 ? ` and stay so for ${formatDuration(target.stableForMs)}` : ''}`
        : `${target.desiredCount} task(s) of ${revision} to be RUNNING`,
    deadline: budget.deadline,
    signal: budget.signal,
    interval: budget.poll,
    onProgress: (text) => log.info(`  ${text}`),
    observe: tolerateTransient(async () => {
      polls += 1
      // One call a poll while nothing happens: the known tasks, whose desiredStatus turns STOPPED
      // the moment ECS decides to stop one; the service (deployment state, counts) every few
      // seconds, and every poll while ECS's side is what is awaited. Everything is read when a
      // known task is on its way out, when the service shows what the known tasks do not explain,
      // until the new tasks are known, and every half minute before the stability window.
      const complete = known.length >= target.desiredCount
      // What the previous wait saw a moment ago is this wait's first look.
      const fresh = polls === 1 && carried !== undefined
      // While only ECS's side is awaited the service is read every poll, and its counts show a
      // task that stops: the tasks themselves only every few polls.
      const skipTasks =
        (onlyEcsLeft && !stable && polls % TASKS_READ_EVERY !== 0) || (fresh && carried?.tasks !== undefined)
      let tasks = !complete ? [] : skipTasks ? lastTasks : await describeTasks(clients, ref.cluster, known)
      /** The tasks described in this poll: a listing does not describe them again. */
      const describedNow = new Map(skipTasks ? [] : tasks.map((t) => [t.taskArn as string, t]))
      const leaving = tasks.length < known.length || tasks.some((t) => t.desiredStatus === 'STOPPED')
      const tasksReady =
        complete &&
        tasks.every(
          (t) => t.lastStatus === 'RUNNING' && (!target.healthChecked || t.healthStatus === 'HEALTHY'),
        )
      const serviceDue = Date.now() - serviceReadAt >= SERVICE_READ_MS - POLL_SLACK_MS
      const readService =
        !fresh && (!lastService || !complete || leaving || serviceDue || (tasksReady && !stable))
      const service = readService ? await describeService(clients, ref) : (lastService as Service)
      if (readService) serviceReadAt = Date.now()
      lastService = service
      const shape = shapeOf(service, deploymentId)
      const own = JSON.stringify(ownCounts(service, deploymentId))
      // The first read has nothing to compare with: the known tasks (if any) were just described.
      // Counts that moved exactly as the described tasks did say nothing new.
      const moved =
        lastShape !== undefined &&
        (shape !== lastShape ||
          (own !== lastOwnCounts && own !== JSON.stringify(complete ? countsOfTasks(tasks) : undefined)))
      lastShape = shape
      lastOwnCounts = own
      const readAll = leaving || moved || !complete || (!stable && Date.now() - allReadAt >= FULL_READ_MS)
      if (readAll) {
        allReadAt = Date.now()
        // The stopped tasks first: once a task of a single-writer service has failed, every second
        // until the scale-down is a second ECS may overlap it. Judged as soon as they are known.
        const runningList = settled(listDeploymentTasks(clients, ref, deploymentId, 'RUNNING'))
        const stoppedArns = await listDeploymentTasks(clients, ref, deploymentId, 'STOPPED')
        const stopped = await describeTasks(
          clients,
          ref.cluster,
          stoppedArns.filter((arn) => !reportedStops.has(arn)),
        )
        for (const task of stopped.sort((a, b) => stopDecidedAt(a) - stopDecidedAt(b))) {
          const ran = containersRan(task)
          // Whether a task still stopping ran its containers is only certain once it is STOPPED.
          if (!ran && task.lastStatus !== 'STOPPED') continue
          reportedStops.add(task.taskArn as string)
          budget.tracker.observe([task])
          if (stable) {
            throw new TaskFailure(
              `New ${describeStopping(task)}, ${formatDuration(Date.now() - stable.since)} after ${revision} had turned healthy: not stable.`,
              task,
            )
          }
          if (target.singleWriter && ran) {
            throw new TaskFailure(
              `New ${describeStopping(task)}. On a single-writer service the first failed task ends the attempt: ECS would start its replacement while it still holds the volume.`,
              task,
            )
          }
          log.warning(
            `New ${describeStopping(task)}${ran ? '' : ' (its containers never ran, so it held no lock; ECS may try again)'}`,
          )
        }
        const runningArns = await runningList()
        const described = await describeTasks(
          clients,
          ref.cluster,
          runningArns.filter((arn) => !describedNow.has(arn)),
        )
        for (const task of described) describedNow.set(task.taskArn as string, task)
        tasks = runningArns.flatMap((arn) => describedNow.get(arn) ?? [])
        known = tasks.map((t) => t.taskArn as string)
      }
      lastTasks = tasks
      onlyEcsLeft = tasksReady && !readAll
      if (readService && (readAll || !skipTasks)) progress.last = { at: Date.now(), service, tasks }
      const deployment = service.deployments?.find((d) => d.id === deploymentId)
      const primary = service.deployments?.find((d) => d.status === 'PRIMARY')
      if (deployment?.rolloutState === 'FAILED' || !deployment || deployment.status !== 'PRIMARY') {
        const reason = deployment?.rolloutStateReason
          ? `: ${deployment.rolloutStateReason.replace(/\.+$/, '')}`
          : ''
        const rolledBackTo =
          primary && primary.id !== deploymentId ? primary.taskDefinition?.split('/').pop() : undefined
        throw new RolloutFailure(
          rolledBackTo
            ? `ECS's deployment circuit breaker failed deployment ${deploymentId} and rolled the service back to ${rolledBackTo}${reason}.`
            : `Deployment ${deploymentId} FAILED${reason}.`,
        )
      }

      if (
        reportedStops.size >= threshold &&
        !service.deploymentConfiguration?.deploymentCircuitBreaker?.enable
      ) {
        throw new RolloutFailure(
          `${reportedStops.size} tasks of ${revision} stopped during the deployment; ECS would keep replacing them forever (the circuit breaker is off).`,
        )
      }

      budget.tracker.observe(tasks)
      const running = tasks.filter(
        (t) => t.lastStatus === 'RUNNING' && t.taskDefinitionArn === target.taskDefinitionArn,
      )
      progress.running = running
      if (running.length >= target.desiredCount) progress.runningAt ??= Date.now()
      const runningText = `${running.length}/${target.desiredCount} new task(s) RUNNING`
      // Until shortly before the tasks are expected to run (a measurement says when), a slower
      // look: nothing but their own progress is due. Around that moment, a quick one.
      const expected =
        target.expectedRunningAt !== undefined && reportedStops.size === 0
          ? target.expectedRunningAt
          : undefined
      const starting = (): { pollInMs?: number } => {
        if (expected === undefined) return {}
        const now = Date.now()
        if (now < expected - AROUND_EXPECTED_MS)
          return { pollInMs: Math.min(SLOW_POLL_MS, expected - AROUND_EXPECTED_MS - now) }
        return now < expected + AROUND_EXPECTED_MS ? { pollInMs: EXPECTED_POLL_MS } : {}
      }
      if (until === 'running') {
        return running.length >= target.desiredCount
          ? { done: true, value: undefined }
          : { done: false, progress: runningText, ...starting() }
      }

      const healthy = target.healthChecked ? running.filter((t) => t.healthStatus === 'HEALTHY') : running
      const waitingOn: string[] = []
      if (healthy.length < target.desiredCount) {
        waitingOn.push(
          target.healthChecked
            ? `${healthy.length}/${target.desiredCount} new task(s) HEALTHY (${running.map((t) => `${taskId(t.taskArn)} ${t.healthStatus}`).join(', ') || 'none running'})`
            : runningText,
        )
      }
      if (deployment.rolloutState && deployment.rolloutState !== 'COMPLETED')
        waitingOn.push(`rollout ${deployment.rolloutState}`)
      if ((service.deployments?.length ?? 0) > 1) waitingOn.push('ECS to retire the previous deployment')
      const groups = targetGroupsOf(service)
      // Targets matter once the new tasks run (their reasons explain a rollout that does not
      // complete); in the window, every few polls.
      const readTargets =
        groups.length > 0 && running.length >= target.desiredCount && (!stable || readAll || readService)
      const lb = readTargets ? await readTargetHealth(clients, groups) : undefined
      if (lb) budget.tracker.noteTargets(lb.targets)
      if (lb && (lb.healthy < target.desiredCount || lb.notReady.length > 0)) {
        waitingOn.push(
          `load balancer: ${lb.healthy} healthy${lb.notReady.length ? `, ${lb.notReady.join(', ')}` : ''}`,
        )
      }

      const arns = running.map((t) => t.taskArn as string).sort()
      if (stable) {
        const replaced = arns.filter((arn) => !stable?.tasks.includes(arn))
        if (replaced.length > 0) {
          throw new TaskFailure(
            `ECS started task ${replaced.map(taskId).join(', ')} of ${revision} ${formatDuration(Date.now() - stable.since)} after it had turned healthy: a task was replaced, not stable.`,
            undefined,
          )
        }
        if (waitingOn.length > 0) {
          throw new RolloutFailure(
            `${revision} turned unhealthy ${formatDuration(Date.now() - stable.since)} after it had turned healthy: ${waitingOn.join('; ')}.`,
          )
        }
      }
      if (waitingOn.length > 0) {
        // Only ECS's side (the rollout, the old deployment) or the first passing target check is
        // left: it comes any moment, and the stability window counts from when it is seen.
        const last = healthy.length >= target.desiredCount ? { pollInMs: LAST_STEP_POLL_MS } : starting()
        return { done: false, progress: `waiting for ${waitingOn.join('; ')}`, ...last }
      }
      progress.healthyAt ??= Date.now()
      stable ??= { since: Date.now(), tasks: arns }
      if (Date.now() - stable.since >= target.stableForMs) return { done: true, value: undefined }
      return {
        done: false,
        progress: `healthy; watching that it stays so for ${formatDuration(target.stableForMs)} (stable-for)`,
        // The last look lands on the window's end, not up to a poll after it.
        pollInMs: Math.min(WINDOW_POLL_MS, stable.since + target.stableForMs - Date.now()),
      }
    }),
  })
}
