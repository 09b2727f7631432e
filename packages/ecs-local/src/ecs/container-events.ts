/** The runtime's reports (RuntimeEvents): image pulls, containers created, started and exited, logs. */

import { parseArn } from '../ids.ts'
import type { LogDestination } from '../runtime/types.ts'
import { awsSeconds, MIN_TICK_MS } from '../timings.ts'
import type { SchedulerContext } from './scheduler-context.ts'
import type { TaskRecord } from './state.ts'
import { endLifeIfAllExited } from './task-launch.ts'
import { requestStop } from './task-lifecycle.ts'

/** After shutdown, late events from the runtime change nothing. */
function taskOf(ctx: SchedulerContext, taskArn: string): TaskRecord | undefined {
  return ctx.closed ? undefined : ctx.state.tasks[taskArn]
}

export function pullStarted(ctx: SchedulerContext, taskArn: string): void {
  const task = taskOf(ctx, taskArn)
  if (task) task.pullStartedAt = Date.now()
}

export function pullStopped(ctx: SchedulerContext, taskArn: string): void {
  const task = taskOf(ctx, taskArn)
  if (task) task.pullStoppedAt = Date.now()
}

export function containerCreated(ctx: SchedulerContext, taskArn: string, containerName: string): void {
  const task = taskOf(ctx, taskArn)
  if (!task) return
  const created = ctx.created.get(taskArn) ?? new Set<string>()
  created.add(containerName)
  ctx.created.set(taskArn, created)
  const service = task.serviceArn ? ctx.state.services[task.serviceArn] : undefined
  ctx.deps.monitor.begin({
    taskArn,
    taskId: task.id,
    cluster: parseArn(task.clusterArn)?.resource.split('/')[1] ?? '',
    ...(service ? { service: service.name } : {}),
    group: task.group,
    taskDefinitionArn: task.taskDefinitionArn,
    volumes: ctx.built.get(taskArn)?.volumes ?? [],
  })
}

export function containerStarted(ctx: SchedulerContext, taskArn: string, containerName: string): void {
  const container = taskOf(ctx, taskArn)?.containers.find((c) => c.name === containerName)
  if (!container || container.lastStatus !== 'PENDING') return
  const now = Date.now()
  container.lastStatus = 'RUNNING'
  container.startedAt = now
  // Docker runs the first health check one interval after the container starts.
  if (container.healthCheck) {
    container.health = {
      failures: 0,
      nextCheckAt:
        now + Math.max(awsSeconds(ctx.timings, container.healthCheck.intervalSeconds), MIN_TICK_MS),
    }
  }
  ctx.deps.store.changed()
  ctx.kick()
}

export function containerExited(
  ctx: SchedulerContext,
  taskArn: string,
  containerName: string,
  exitCode: number | undefined,
  reason?: string,
): void {
  const task = taskOf(ctx, taskArn)
  const container = task?.containers.find((c) => c.name === containerName)
  if (!task || !container) return
  container.lastStatus = 'STOPPED'
  if (exitCode !== undefined) container.exitCode = exitCode
  if (reason) container.reason ??= reason
  if (container.essential && task.desiredStatus === 'RUNNING') {
    requestStop(ctx, task, 'Essential container in task exited', 'EssentialContainerExited', {
      failure: true,
    })
  }
  endLifeIfAllExited(ctx, task)
  ctx.deps.store.changed()
  ctx.kick()
}

export function log(
  ctx: SchedulerContext,
  destination: LogDestination,
  message: string,
  timestamp: number,
): void {
  ctx.deps.logs.write(destination.region, destination.group, destination.stream, message, timestamp)
}
