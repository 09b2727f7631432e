/**
 * The service scheduler: keeps each service's deployments at their desired count within
 * minimumHealthyPercent / maximumPercent, replaces unhealthy tasks, and words the task events.
 */

import { addEvent } from './deployments.ts'
import { isHealthy, unhealthyReason } from './health.ts'
import type { SchedulerContext } from './scheduler-context.ts'
import { isLive, type ServiceRecord, type Tag, type TaskDefinitionRecord, type TaskRecord } from './state.ts'
import { createTask, requestStop } from './task-lifecycle.ts'
import { containerDefinitions } from './task-spec.ts'

export function tasksOfService(ctx: SchedulerContext, service: ServiceRecord): TaskRecord[] {
  return Object.values(ctx.state.tasks).filter(
    (t) => t.serviceArn === service.arn && t.lastStatus !== 'STOPPED',
  )
}

function stopServiceTask(ctx: SchedulerContext, task: TaskRecord, reason: string, failure = false): void {
  requestStop(ctx, task, reason, 'ServiceSchedulerInitiated', { failure, announce: true })
}

export function reconcile(ctx: SchedulerContext, service: ServiceRecord, now: number): void {
  if (service.status === 'INACTIVE') return
  const primary = service.deployments[0]
  if (!primary) return
  const desired = service.desiredCount
  const scaling = `Scaling activity initiated by (deployment ${primary.id})`
  const live = () => tasksOfService(ctx, service).filter(isLive)
  if (service.status === 'DRAINING') {
    for (const task of live()) stopServiceTask(ctx, task, scaling)
    return
  }

  for (const task of live()) {
    if (task.lastStatus !== 'RUNNING') continue
    const unhealthy = unhealthyReason(ctx, service, task, now)
    if (unhealthy) {
      addEvent(service, unhealthy.event, now)
      stopServiceTask(ctx, task, unhealthy.reason, true)
    }
  }

  // Scale in: tasks not yet running go first, then the newest.
  const ofPrimary = live().filter((t) => t.deploymentId === primary.id)
  if (ofPrimary.length > desired) {
    ofPrimary
      .sort(
        (a, b) =>
          Number(a.lastStatus === 'RUNNING') - Number(b.lastStatus === 'RUNNING') ||
          b.createdAt - a.createdAt,
      )
      .slice(0, ofPrimary.length - desired)
      .forEach((t) => stopServiceTask(ctx, t, scaling))
  }

  // A FAILED deployment (circuit breaker without rollback) launches nothing and replaces nothing.
  if (primary.rolloutState === 'FAILED') return
  const { maximumPercent, minimumHealthyPercent } = service.deploymentConfiguration
  const maxTasks = Math.floor((desired * maximumPercent) / 100)
  const minHealthy = Math.ceil((desired * minimumHealthyPercent) / 100)

  // Old deployments: unhealthy or unstarted tasks may always go; healthy ones while enough stay healthy.
  const old = live().filter((t) => t.deploymentId !== primary.id)
  for (const task of old) if (!isHealthy(ctx, task, now)) stopServiceTask(ctx, task, scaling)
  let healthy = live().filter((t) => isHealthy(ctx, t, now)).length
  for (const task of old
    .filter((t) => t.desiredStatus === 'RUNNING')
    .sort((a, b) => a.createdAt - b.createdAt)) {
    if (healthy - 1 < minHealthy) break
    stopServiceTask(ctx, task, scaling)
    healthy -= 1
  }

  // maximumPercent bounds the tasks that are RUNNING or on their way; stopping ones do not count.
  if ((service.nextLaunchAt ?? 0) > now) return ctx.wakeAt(service.nextLaunchAt ?? now)
  const all = live()
  const need = desired - all.filter((t) => t.deploymentId === primary.id).length
  const room = maxTasks - all.length
  const definition = ctx.state.taskDefinitions[primary.taskDefinition]
  if (!definition) return
  for (let i = 0; i < Math.min(need, room); i += 1) {
    const task = createTask(ctx, {
      clusterArn: service.clusterArn,
      region: service.region,
      taskDefinition: definition,
      group: `service:${service.name}`,
      startedBy: primary.id,
      serviceArn: service.arn,
      deploymentId: primary.id,
      ...(service.launchType ? { launchType: service.launchType } : {}),
      overrides: {
        containerOverrides: containerDefinitions(definition.definition).map((c) => ({ name: c.name })),
        inferenceAcceleratorOverrides: [],
      },
      ...(service.networkConfiguration ? { networkConfiguration: service.networkConfiguration } : {}),
      ...propagatedTags(ctx, service, definition),
    })
    const list = ctx.started.get(service.arn) ?? []
    list.push(task.id)
    ctx.started.set(service.arn, list)
  }
}

function propagatedTags(
  ctx: SchedulerContext,
  service: ServiceRecord,
  definition: TaskDefinitionRecord,
): { tags?: Tag[] } {
  const from =
    service.propagateTags === 'SERVICE'
      ? service.arn
      : service.propagateTags === 'TASK_DEFINITION'
        ? definition.arn
        : undefined
  const tags = from ? ctx.state.tags[from] : undefined
  return tags?.length ? { tags: [...tags] } : {}
}

/** Writes the "has started / has stopped N tasks" events gathered during the tick. */
export function flushTaskEvents(ctx: SchedulerContext, now: number): void {
  for (const [arn, ids] of ctx.stoppedByScheduler) {
    const service = ctx.state.services[arn]
    if (service)
      addEvent(
        service,
        `has stopped ${ids.length} running tasks: ${ids.map((id) => `(task ${id})`).join(' ')}.`,
        now,
      )
  }
  ctx.stoppedByScheduler.clear()
  for (const [arn, ids] of ctx.started) {
    const service = ctx.state.services[arn]
    if (service)
      addEvent(service, `has started ${ids.length} tasks: ${ids.map((id) => `(task ${id})`).join(' ')}.`, now)
  }
  ctx.started.clear()
}
