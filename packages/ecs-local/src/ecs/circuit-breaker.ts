/** Failed launches: relaunch backoff, and the circuit breaker that fails (and may roll back) a deployment. */

import { MIN_TICK_MS } from '../timings.ts'
import { addEvent, failureThreshold, startDeployment } from './deployments.ts'
import type { SchedulerContext } from './scheduler-context.ts'
import type { DeploymentRecord, ServiceRecord, TaskRecord } from './state.ts'

/** Failed launches count toward the circuit breaker until a task of the deployment is healthy. */
export function countFailure(ctx: SchedulerContext, task: TaskRecord): void {
  if (!task.serviceArn || task.healthyAt !== undefined || task.countedAsFailure) return
  const service = ctx.state.services[task.serviceArn]
  const deployment = service?.deployments.find((d) => d.id === task.deploymentId)
  if (!service || !deployment) return
  task.countedAsFailure = true
  const now = Date.now()
  deployment.failedTasks += 1
  deployment.updatedAt = now
  service.consecutiveLaunchFailures += 1
  const backoff = Math.min(
    ctx.timings.launchBackoffMaxMs,
    ctx.timings.launchBackoffMs * 2 ** (service.consecutiveLaunchFailures - 1),
  )
  // Never relaunch in the same tick: a task that fails at once must not spin the loop.
  service.nextLaunchAt = now + Math.max(backoff, MIN_TICK_MS)
  circuitBreaker(ctx, service, deployment, now)
}

function circuitBreaker(
  ctx: SchedulerContext,
  service: ServiceRecord,
  deployment: DeploymentRecord,
  now: number,
): void {
  if (deployment.status !== 'PRIMARY' || deployment.rolloutState !== 'IN_PROGRESS') return
  if (deployment.failedTasks < failureThreshold(service.desiredCount)) return
  if (!deployment.warnedUnableToStart) {
    deployment.warnedUnableToStart = true
    addEvent(
      service,
      'is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.',
      now,
    )
  }
  const breaker = service.deploymentConfiguration.deploymentCircuitBreaker
  if (!breaker.enable) return
  deployment.rolloutState = 'FAILED'
  deployment.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.'
  deployment.updatedAt = now
  addEvent(service, `(deployment ${deployment.id}) deployment failed: tasks failed to start.`, now)
  const target = service.lastCompleted
  if (!breaker.rollback || !target || target.id === deployment.id) return
  if (ctx.state.taskDefinitions[target.taskDefinition]?.status !== 'ACTIVE') {
    // Inferred: ECS cannot start a new deployment of a deregistered revision, so no rollback happens.
    addEvent(
      service,
      `(deployment ${deployment.id}) cannot roll back: task definition ${target.taskDefinition} is inactive.`,
      now,
    )
    return
  }
  addEvent(service, `(deployment ${deployment.id}) rolling back to deployment ${target.id}`, now)
  startDeployment(
    service,
    target.taskDefinition,
    now,
    `ECS deployment circuit breaker: rolling back to deploymentId ${target.id}.`,
  )
}
