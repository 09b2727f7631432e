/** Tasks across a restart of ecs-local (adopted, or STOPPED saying why) and at its shutdown (all STOPPED). */

import type { TaskSpec } from '../runtime/types.ts'
import type { SchedulerContext } from './scheduler-context.ts'
import type { StopCode, TaskRecord } from './state.ts'
import { buildTask } from './task-launch.ts'
import { requestStop, setStatus } from './task-lifecycle.ts'
import { dropTargets } from './targets.ts'

function specFor(ctx: SchedulerContext, task: TaskRecord): TaskSpec | undefined {
  const definition = ctx.state.taskDefinitions[task.taskDefinitionArn]
  if (!definition) return undefined
  try {
    const built = buildTask(ctx, task, definition)
    ctx.built.set(task.arn, built)
    return built.spec
  } catch {
    return undefined
  }
}

/**
 * After a restart: tasks whose containers still run (Docker, after a crash of ecs-local) are
 * adopted and carry on; every other task that was not STOPPED is marked STOPPED with a reason
 * saying so, and its services start replacements.
 */
export async function restoreTasks(ctx: SchedulerContext): Promise<void> {
  const now = Date.now()
  const open = Object.values(ctx.state.tasks).filter((t) => t.lastStatus !== 'STOPPED')
  const specs = open.flatMap((t) => {
    const spec = ['ACTIVATING', 'RUNNING', 'DEACTIVATING', 'STOPPING'].includes(t.lastStatus)
      ? specFor(ctx, t)
      : undefined
    return spec ? [spec] : []
  })
  const adopted = await ctx.runtime.adopt(specs)
  for (const task of open) {
    const containers = adopted.get(task.arn)
    if (containers && (task.lastStatus === 'RUNNING' || task.lastStatus === 'DEACTIVATING')) {
      for (const c of task.containers) {
        const live = containers.find((s) => s.name === c.name)
        if (!live) continue
        c.networkBindings = live.networkBindings
        c.runtimeId = live.runtimeId
        if (c.healthCheck && c.lastStatus === 'RUNNING') c.health = { failures: 0, nextCheckAt: now }
      }
      continue
    }
    if (containers) {
      // Caught half-way: take it down properly.
      ctx.starting.set(task.arn, { settled: true, targetsRegistered: true })
      requestStop(
        ctx,
        task,
        `ecs-local restarted while the task was ${task.lastStatus}`,
        'ServiceSchedulerInitiated',
      )
      continue
    }
    const hadStarted = task.containers.some((c) => c.runtimeId)
    stopWithoutContainers(
      ctx,
      task,
      now,
      ctx.runtime.kind === 'simulated'
        ? 'ecs-local restarted: simulated containers do not survive a restart'
        : 'ecs-local restarted and the containers of this task no longer exist',
      hadStarted ? 'EssentialContainerExited' : 'TaskFailedToStart',
    )
  }
  ctx.deps.store.changed()
}

/** Once the clock is stopped: every container is removed; tasks that were alive are STOPPED, saying why. */
export async function shutdownTasks(ctx: SchedulerContext): Promise<void> {
  await Promise.all(ctx.removals)
  await ctx.runtime.shutdown()
  const now = Date.now()
  for (const task of Object.values(ctx.state.tasks)) {
    if (task.lastStatus === 'STOPPED') continue
    stopWithoutContainers(ctx, task, now, 'ecs-local was shut down and removed the containers of this task')
  }
  ctx.deps.store.changed()
}

/**
 * A task whose containers are gone goes straight to STOPPED, skipping the lifecycle: nothing is
 * left to stop or drain. A reason or stop code it already had is kept.
 */
function stopWithoutContainers(
  ctx: SchedulerContext,
  task: TaskRecord,
  now: number,
  reason: string,
  stopCode?: StopCode,
): void {
  dropTargets(ctx, task)
  task.desiredStatus = 'STOPPED'
  task.stoppedReason ??= reason
  if (stopCode) task.stopCode ??= stopCode
  task.stoppingAt ??= now
  for (const c of task.containers) c.lastStatus = 'STOPPED'
  setStatus(task, 'STOPPED', now)
  task.stoppedAt = now
  ctx.deps.monitor.end(task.arn, now)
}
