import { createBudget, withinBudget } from './budget.ts'
import type { AwsClients } from './clients.ts'
import { inPhase, type EngineContext } from './events.ts'
import { formatLastDeploy, TAG_LAST_DEPLOY } from './downtime.ts'
import { afterFailure } from './failure.ts'
import { runAttempt, type Attempt } from './attempt.ts'
import { outcomeOf, type DeployOutcome } from './outcome.ts'
import { preflight, type DeployRequest } from './plan.ts'
import { clearRestorePoint, saveRestorePoint, type RestorePoint } from './restore-point.ts'
import type { RolloutTarget } from './rollout.ts'
import { tagService } from './service.ts'
import { hasHealthCheck } from './task-definition.ts'

export type { DeployRequest, Strategy } from './plan.ts'
export type { DeployOutcome } from './outcome.ts'

/** Time kept back from the waits for what follows a failure (stop, restore, diagnosis): a tenth, at most a minute. */
function reserveMs(request: DeployRequest, began: number): number {
  return Math.min(60_000, Math.max(0, (request.deadline - began) * 0.1))
}

/**
 * The deploy both deploying actions share: preflight (nothing changes until everything checkable
 * is checked), drain (scale to 0 and wait until every old task is STOPPED), start the new
 * deployment, wait until it is healthy and stays so. A cancel or a failure before the start puts
 * the previous revision back, drained first; a failure after it says why, and on a single-writer
 * service stops the service first so that ECS's replacements do not pile up beside the failed
 * task. Every failure message ends with the state read back from ECS. One budget (the request's
 * deadline less a reserve for the cleanup, the cancel signal, the polling, one task tracker) is
 * passed to every wait.
 */
export async function deploy(
  engine: EngineContext,
  clients: AwsClients,
  request: DeployRequest,
): Promise<DeployOutcome> {
  const began = Date.now()
  const budget = createBudget(() => request.deadline - reserveMs(request, began), engine.signal, request.poll)
  const plan = await inPhase(engine, 'Preflight', () =>
    withinBudget(budget, 'The preflight', () => preflight(clients, request, budget)),
  )
  const newArn = plan.definition.taskDefinitionArn as string
  engine.emit({
    type: 'planned',
    purpose: request.purpose,
    cluster: request.ref.cluster,
    service: request.ref.service,
    previousTaskDefinitionArn: plan.previousArn,
    taskDefinitionArn: newArn,
    strategy: request.strategy,
    singleWriter: plan.singleWriter,
    ...(plan.downtime ? { downtime: plan.downtime } : {}),
  })
  const point: RestorePoint = {
    ...request.ref,
    region: request.region,
    taskDefinitionArn: plan.previousArn,
    desiredCount: plan.previousCount,
    drain: plan.singleWriter || request.strategy === 'drain',
    drainSeconds: plan.drainSeconds,
  }
  saveRestorePoint(point)
  const target: RolloutTarget = {
    taskDefinitionArn: newArn,
    desiredCount: plan.desiredCount,
    forceNewDeployment: request.strategy === 'drain' || newArn === plan.previousArn,
    healthChecked: hasHealthCheck(plan.definition),
    singleWriter: plan.singleWriter,
    stableForMs: request.stableForMs,
  }
  const attempt: Attempt = { updateSentAt: 0, progress: { running: [] } }
  try {
    await runAttempt(engine, clients, request, plan, target, budget, attempt)
  } catch (error) {
    throw await afterFailure(engine, clients, { request, plan, point, budget, attempt, began }, error)
  }
  clearRestorePoint()
  const result = outcomeOf(request, plan, attempt)
  if (result.downtimePhases && request.waitFor === 'healthy') {
    // What the next deploy's prediction starts from.
    await tagService(
      clients,
      plan.service,
      {
        [TAG_LAST_DEPLOY]: formatLastDeploy({
          phases: result.downtimePhases,
          delaySeconds: plan.drainDelaySeconds,
        }),
      },
      'the next deploy cannot predict its downtime from this one',
    )
  }
  return result
}
