/** A service's status after each reconcile: counts, drained deployments, rollout completion, steady state. */

import { addEvent } from './deployments.ts'
import { isHealthy } from './health.ts'
import { tasksOfService } from './reconcile.ts'
import type { SchedulerContext } from './scheduler-context.ts'
import { isLive, type ServiceRecord, type TaskStatus } from './state.ts'

/** Tasks past this point hold no load balancer target and count as drained for their deployment. */
const DRAINED: readonly TaskStatus[] = ['STOPPING', 'DEPROVISIONING', 'STOPPED']

/** Counts, drained deployments, rollout completion, steady state, DRAINING → INACTIVE. */
export function evaluate(ctx: SchedulerContext, service: ServiceRecord, now: number): void {
  if (service.status === 'INACTIVE') return
  const tasks = tasksOfService(ctx, service)
  for (const task of tasks) {
    if (task.healthyAt === undefined && isHealthy(ctx, task, now)) {
      task.healthyAt = now
      const deployment = service.deployments.find((d) => d.id === task.deploymentId)
      if (deployment?.status === 'PRIMARY' && deployment.failedTasks > 0) deployment.failedTasks = 0
      service.consecutiveLaunchFailures = 0
    }
  }
  if (service.status === 'DRAINING') {
    if (tasks.length === 0) {
      service.status = 'INACTIVE'
      service.deletedAt = now
    }
    return
  }
  const primary = service.deployments[0]
  if (!primary) return
  primary.desiredCount = service.desiredCount
  for (const deployment of service.deployments.slice(1)) {
    const mine = tasks.filter((t) => t.deploymentId === deployment.id)
    deployment.desiredCount = mine.filter(isLive).length
    if (mine.every((t) => DRAINED.includes(t.lastStatus))) {
      deployment.status = 'INACTIVE'
      deployment.updatedAt = now
      service.deployments.splice(service.deployments.indexOf(deployment), 1)
      service.pastDeployments.unshift(deployment)
      if (service.pastDeployments.length > 20) service.pastDeployments.length = 20
    }
  }
  const ofPrimary = tasks.filter((t) => t.deploymentId === primary.id && isLive(t))
  const allHealthy = ofPrimary.every((t) => isHealthy(ctx, t, now))
  const settled = service.deployments.length === 1 && ofPrimary.length === service.desiredCount && allHealthy
  if (settled && primary.rolloutState === 'IN_PROGRESS') {
    primary.rolloutState = 'COMPLETED'
    primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`
    primary.updatedAt = now
    service.lastCompleted = { id: primary.id, taskDefinition: primary.taskDefinition }
    addEvent(service, `(deployment ${primary.id}) deployment completed.`, now)
  }
  const running = tasks.filter((t) => t.lastStatus === 'RUNNING').length
  // Steady once nothing is starting or draining; containers in their SIGTERM grace do not hold it back.
  const steady =
    settled &&
    running === service.desiredCount &&
    tasks.every((t) => isLive(t) || DRAINED.includes(t.lastStatus))
  if (steady && !service.steady) addEvent(service, 'has reached a steady state.', now)
  service.steady = steady
}
