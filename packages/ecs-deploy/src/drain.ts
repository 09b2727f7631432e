import { UpdateServiceCommand, type Task } from '@aws-sdk/client-ecs'
import * as log from '@ecs-lockstep/core/log'
import { aws } from '@ecs-lockstep/core/aws/errors'
import { formatDuration } from '@ecs-lockstep/core/time'
import { waitFor } from '@ecs-lockstep/core/wait'
import type { Budget } from './budget.ts'
import type { EcsAccess } from './clients.ts'
import { tolerateTransient } from './poll.ts'
import type { ServiceRef } from './service.ts'
import { describeTasks, isStopped, listServiceTasks, taskId } from './tasks.ts'

/**
 * While tasks drain, the service is listed again this often (a straggler is logged when it shows
 * up); it is always listed once more before the drain is declared done.
 */
const RELIST_EVERY_MS = 30_000

export interface DrainResult {
  ms: number
  /**
   * When the scale-down was sent, if any task was serving: the downtime starts there, since ECS
   * deregisters the tasks from the load balancer at once.
   */
  stopServingAt: number | undefined
  /** Every task this drain saw stop: stopped on purpose, so never a failure in a diagnosis. */
  stopped: Set<string>
}

/**
 * Every task of the service that is not STOPPED yet, whatever its desired status. Tasks already
 * seen STOPPED (the last hour's history) are kept in `stopped` and not described again.
 */
export async function liveServiceTasks(
  clients: EcsAccess,
  ref: ServiceRef,
  stopped: Map<string, Task> = new Map(),
): Promise<Task[]> {
  const arns = (await listServiceTasks(clients, ref, ['RUNNING', 'STOPPED'])).filter(
    (arn) => !stopped.has(arn),
  )
  const tasks = await describeTasks(clients, ref.cluster, arns)
  for (const task of tasks.filter(isStopped)) stopped.set(task.taskArn as string, task)
  return tasks.filter((t) => !isStopped(t))
}

export async function scaleToZero(clients: EcsAccess, ref: ServiceRef): Promise<void> {
  await aws(`scaling ${ref.service} to 0`, () =>
    clients.ecs.send(
      new UpdateServiceCommand({ cluster: ref.cluster, service: ref.service, desiredCount: 0 }),
    ),
  )
}

/**
 * Scales the service to zero and waits until every one of its tasks is STOPPED: not merely out of
 * runningCount (DEACTIVATING and STOPPING tasks still have their containers, and their locks).
 * Every revision switch goes through here: deploy, rollback, the restore after a cancel, and the
 * stop after a failed task. Stragglers (a task ECS was starting as we scaled down) are picked up
 * by re-listing, always once more before the drain is declared done.
 */
export async function drainService(
  clients: EcsAccess,
  ref: ServiceRef,
  budget: Budget,
  known: {
    /** The live tasks a caller already listed; anything else is found by listing. */
    live?: Task[]
    /** The tasks that listing found STOPPED already: not described again. */
    stopped?: Map<string, Task>
    /** The service is at desired count 0 already: no scale-down to send. */
    scaledDown?: boolean
  } = {},
): Promise<DrainResult> {
  const started = Date.now()
  const tracked = new Map<string, Task>()
  const seenStopped = new Map(known.stopped ?? [])
  const live = known.live ?? (await liveServiceTasks(clients, ref, seenStopped))
  for (const task of live) tracked.set(task.taskArn as string, task)
  budget.tracker.observe([...tracked.values()])
  if (known.scaledDown) {
    log.info(`${ref.service} is at 0 already; waiting for ${tracked.size} task(s) to reach STOPPED.`)
  } else {
    log.info(`Scaling ${ref.service} to 0; waiting for ${tracked.size} task(s) to reach STOPPED.`)
    await scaleToZero(clients, ref)
  }

  /** Lists the service again: a task ECS was starting as we scaled down shows up here. */
  const relist = async (): Promise<void> => {
    for (const task of await liveServiceTasks(clients, ref, seenStopped)) {
      if (!tracked.has(task.taskArn as string))
        log.info(`  task ${taskId(task.taskArn)} appeared while draining`)
      tracked.set(task.taskArn as string, task)
    }
    // The listing described the tracked tasks that stopped since: keep those descriptions.
    for (const arn of tracked.keys()) {
      const stopped = seenStopped.get(arn)
      if (stopped) tracked.set(arn, stopped)
    }
  }
  const notStopped = () => [...tracked.values()].filter((t) => !isStopped(t))
  const progressOf = (alive: Task[]) => alive.map((t) => `${taskId(t.taskArn)} ${t.lastStatus}`).join(', ')
  // Tasks that were serving a moment ago cannot have drained yet: the first look waits a poll.
  const justToldToStop = !known.scaledDown && live.length > 0 && live.every((t) => t.lastStatus === 'RUNNING')
  let listedAt = started
  let polls = 0
  await waitFor({
    what: `every task of ${ref.service} to reach STOPPED`,
    deadline: budget.deadline,
    signal: budget.signal,
    interval: budget.poll,
    observe: tolerateTransient(async () => {
      polls++
      if (polls === 1 && justToldToStop) return { done: false, progress: progressOf(notStopped()) }
      // The listing describes every task it finds; otherwise the known ones are described.
      const listed = notStopped().length === 0 || Date.now() - listedAt >= RELIST_EVERY_MS
      if (listed) {
        await relist()
        listedAt = Date.now()
      } else {
        for (const task of await describeTasks(
          clients,
          ref.cluster,
          notStopped().map((t) => t.taskArn as string),
        )) {
          tracked.set(task.taskArn as string, task)
          if (isStopped(task)) seenStopped.set(task.taskArn as string, task)
        }
      }
      // Never done on a description alone: once more listed before the volume is called free.
      if (notStopped().length === 0 && !listed) await relist()
      budget.tracker.observe([...tracked.values()])
      const alive = notStopped()
      if (alive.length === 0) return { done: true, value: undefined }
      return { done: false, progress: progressOf(alive) }
    }),
  })
  const ms = Date.now() - started
  log.info(`All ${tracked.size} task(s) STOPPED after ${formatDuration(ms)}: the volume is free.`)
  return {
    ms,
    stopServingAt: live.some((t) => t.lastStatus === 'RUNNING') ? started : undefined,
    stopped: new Set(tracked.keys()),
  }
}
