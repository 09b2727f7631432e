/** Container health checks, and whether a task counts as healthy (or must be replaced) for its service. */

import { awsSeconds, MIN_TICK_MS } from '../timings.ts'
import type { SchedulerContext } from './scheduler-context.ts'
import type { ContainerRecord, HealthStatus, ServiceRecord, TaskRecord } from './state.ts'

/** Runs the health checks that are due, one at a time per container. */
export function checkContainers(ctx: SchedulerContext, now: number): void {
  for (const task of Object.values(ctx.state.tasks)) {
    if (task.lastStatus === 'STOPPED') continue
    for (const container of task.containers) {
      const hc = container.healthCheck
      const health = container.health
      if (!hc || !health || container.lastStatus !== 'RUNNING') continue
      if (now < health.nextCheckAt) {
        ctx.wakeAt(health.nextCheckAt)
        continue
      }
      const key = `${task.arn}|${container.name}`
      if (ctx.checking.has(key)) continue
      ctx.checking.add(key)
      const timeoutMs = awsSeconds(ctx.timings, hc.timeoutSeconds)
      void ctx.runtime
        .healthCheck(task.arn, container.name, hc.command, timeoutMs)
        .catch(() => false)
        .then((ok) => {
          ctx.checking.delete(key)
          if (ctx.closed || container.lastStatus !== 'RUNNING') return
          const at = Date.now()
          const inStartPeriod =
            at - (container.startedAt ?? at) < awsSeconds(ctx.timings, hc.startPeriodSeconds)
          if (ok) {
            container.healthStatus = 'HEALTHY'
            health.failures = 0
          } else if (!inStartPeriod) {
            // Failures in the start period do not count; a success there still makes it healthy.
            health.failures += 1
            if (health.failures >= hc.retries) container.healthStatus = 'UNHEALTHY'
          }
          health.nextCheckAt = at + Math.max(awsSeconds(ctx.timings, hc.intervalSeconds), MIN_TICK_MS)
          task.healthStatus = taskHealth(task.containers)
          ctx.deps.store.changed()
          ctx.kick()
        })
    }
  }
}

/** Healthy as the service scheduler sees it: container checks, load balancer targets, or 40 s of RUNNING. */
export function isHealthy(ctx: SchedulerContext, task: TaskRecord, now: number): boolean {
  if (task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING') return false
  const essential = task.containers.filter((c) => c.essential && c.healthCheck)
  const checked = essential.length > 0 ? essential : task.containers.filter((c) => c.healthCheck)
  if (checked.some((c) => c.healthStatus !== 'HEALTHY')) return false
  if (task.targets.length > 0) {
    return task.targets.every(
      (t) => ctx.deps.elb.findTarget(t.targetGroupArn, t.id, t.port)?.state === 'healthy',
    )
  }
  if (checked.length > 0) return true
  const healthyFrom = (task.startedAt ?? now) + ctx.timings.healthyWithoutChecksMs
  if (now >= healthyFrom) return true
  ctx.wakeAt(healthyFrom)
  return false
}

/** Why a RUNNING service task must be replaced, once its grace period is over. */
export function unhealthyReason(
  ctx: SchedulerContext,
  service: ServiceRecord,
  task: TaskRecord,
  now: number,
): { reason: string; event: string } | undefined {
  const graceEnds =
    (task.startedAt ?? now) + awsSeconds(ctx.timings, service.healthCheckGracePeriodSeconds ?? 0)
  if (now < graceEnds) {
    ctx.wakeAt(graceEnds)
    return undefined
  }
  if (task.healthStatus === 'UNHEALTHY') {
    return {
      reason: 'Task failed container health checks',
      event: `(task ${task.id}) failed container health checks.`,
    }
  }
  for (const t of task.targets) {
    const target = ctx.deps.elb.findTarget(t.targetGroupArn, t.id, t.port)
    if (target?.state === 'unhealthy') {
      return {
        reason: `Task failed ELB health checks in (target-group ${t.targetGroupArn})`,
        event: `(task ${task.id}) (port ${t.port}) is unhealthy in (target-group ${t.targetGroupArn}) due to (reason ${target.description ?? 'Health checks failed'}).`,
      }
    }
  }
  return undefined
}

/** A task's health from its containers': essential ones decide; without any, the others with checks. */
export function taskHealth(containers: ContainerRecord[]): HealthStatus {
  const essential = containers.filter((c) => c.essential && c.healthCheck)
  const checked = essential.length > 0 ? essential : containers.filter((c) => c.healthCheck)
  if (checked.length === 0) return 'UNKNOWN'
  if (checked.some((c) => c.healthStatus === 'UNHEALTHY')) return 'UNHEALTHY'
  if (checked.some((c) => c.healthStatus !== 'HEALTHY')) return 'UNKNOWN'
  return 'HEALTHY'
}
