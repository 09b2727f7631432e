import { newDeploymentId } from '../ids.ts'
import type { DeploymentRecord, ServiceEvent, ServiceRecord } from './state.ts'
import { randomUUID } from 'node:crypto'

/** ECS keeps the 100 most recent service events. */
const EVENTS_KEPT = 100

export function addEvent(service: ServiceRecord, message: string, at = Date.now()): ServiceEvent {
  const event = { id: randomUUID(), createdAt: at, message: `(service ${service.name}) ${message}` }
  service.events.unshift(event)
  if (service.events.length > EVENTS_KEPT) service.events.length = EVENTS_KEPT
  return event
}

/**
 * A new PRIMARY deployment (CreateService, a new task definition, forceNewDeployment, or a
 * circuit-breaker rollback); the previous PRIMARY becomes ACTIVE and is drained by the scheduler.
 */
export function startDeployment(
  service: ServiceRecord,
  taskDefinition: string,
  now: number,
  rolloutStateReason?: string,
): DeploymentRecord {
  for (const d of service.deployments) {
    if (d.status === 'PRIMARY') {
      d.status = 'ACTIVE'
      d.updatedAt = now
    }
  }
  const id = newDeploymentId()
  const deployment: DeploymentRecord = {
    id,
    status: 'PRIMARY',
    taskDefinition,
    desiredCount: service.desiredCount,
    failedTasks: 0,
    createdAt: now,
    updatedAt: now,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: rolloutStateReason ?? `ECS deployment ${id} in progress.`,
    ...(service.launchType ? { launchType: service.launchType } : {}),
    ...(service.networkConfiguration ? { networkConfiguration: service.networkConfiguration } : {}),
  }
  service.deployments.unshift(deployment)
  service.taskDefinition = taskDefinition
  service.steady = false
  service.consecutiveLaunchFailures = 0
  delete service.nextLaunchAt
  return deployment
}

/** Circuit breaker: 0.5 × desired count, at least 3, at most 200 failed tasks. */
export function failureThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(3, Math.ceil(0.5 * desiredCount)))
}
