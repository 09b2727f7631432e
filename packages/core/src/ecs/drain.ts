import { UpdateServiceCommand, type Task } from '@aws-sdk/client-ecs'
import * as core from '@actions/core'
import { aws } from '../aws/errors.ts'
import { formatDuration } from '../time.ts'
import { waitFor } from '../wait.ts'
import type { AwsClients } from './clients.ts'
import { tolerateThrottling, type PollSettings } from './poll.ts'
import type { ServiceRef } from './service.ts'
import { describeTasks, isStopped, listServiceTasks, taskId, type TaskTracker } from './tasks.ts'

export interface DrainResult {
  ms: number
  /**
   * When the scale-down was sent, if any task was serving: the downtime starts there, since ECS
   * deregisters the tasks from the load balancer at once.
   */
  stopServingAt: number | undefined
}

/**
 * Every task of the service that is not STOPPED yet, whatever its desired status. Tasks already
 * seen STOPPED (the last hour's history) are remembered in `stopped` and not described again.
 */
export async function liveServiceTasks(
  clients: AwsClients,
  ref: ServiceRef,
  stopped: Set<string> = new Set(),
): Promise<Task[]> {
  const arns = (await listServiceTasks(clients, ref, ['RUNNING', 'STOPPED'])).filter(
    (arn) => !stopped.has(arn),
  )
  const tasks = await describeTasks(clients, ref.cluster, arns)
  for (const task of tasks.filter(isStopped)) stopped.add(task.taskArn as string)
  return tasks.filter((t) => !isStopped(t))
}

/**
 * Scales the service to zero and waits until every one of its tasks is STOPPED: not merely out of
 * runningCount (DEACTIVATING and STOPPING tasks still have their containers, and their locks).
 * New stragglers (a task ECS was starting as we scaled down) are picked up by re-listing.
 */
export async function drainService(
  clients: AwsClients,
  ref: ServiceRef,
  /** The live tasks the preflight listed; anything that appeared since is found by re-listing. */
  live: Task[],
  options: { deadline: number; signal: AbortSignal; poll: PollSettings; tracker: TaskTracker },
): Promise<DrainResult> {
  const started = Date.now()
  const tracked = new Map<string, Task>()
  const alreadyStopped = new Set<string>()
  for (const task of live) tracked.set(task.taskArn as string, task)
  options.tracker.observe([...tracked.values()])
  core.info(`Scaling ${ref.service} to 0; waiting for ${tracked.size} task(s) to reach STOPPED.`)
  await aws(`scaling ${ref.service} to 0`, () =>
    clients.ecs.send(
      new UpdateServiceCommand({ cluster: ref.cluster, service: ref.service, desiredCount: 0 }),
    ),
  )

  let polls = 0
  await waitFor({
    what: `every task of ${ref.service} to reach STOPPED`,
    deadline: options.deadline,
    signal: options.signal,
    interval: options.poll,
    observe: tolerateThrottling(async () => {
      polls++
      // Re-list every few polls, and always before declaring the drain done.
      const alive = [...tracked.values()].filter((t) => !isStopped(t))
      if (alive.length === 0 || polls % 5 === 0) {
        for (const task of await liveServiceTasks(clients, ref, alreadyStopped)) {
          if (!tracked.has(task.taskArn as string))
            core.info(`  task ${taskId(task.taskArn)} appeared while draining`)
          tracked.set(task.taskArn as string, task)
        }
      }
      const pending = [...tracked.values()].filter((t) => !isStopped(t)).map((t) => t.taskArn as string)
      for (const task of await describeTasks(clients, ref.cluster, pending)) {
        tracked.set(task.taskArn as string, task)
        if (isStopped(task)) alreadyStopped.add(task.taskArn as string)
      }
      const tasks = [...tracked.values()]
      options.tracker.observe(tasks)
      const notStopped = tasks.filter((t) => !isStopped(t))
      if (notStopped.length === 0) return { done: true, value: undefined }
      return {
        done: false,
        progress: notStopped.map((t) => `${taskId(t.taskArn)} ${t.lastStatus}`).join(', '),
      }
    }),
  })
  const ms = Date.now() - started
  core.info(`All ${tracked.size} task(s) STOPPED after ${formatDuration(ms)}: the volume is free.`)
  return {
    ms,
    stopServingAt: live.some((t) => t.lastStatus === 'RUNNING') ? started : undefined,
  }
}
