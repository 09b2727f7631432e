import type { Budget } from './budget.ts'
import type { AwsClients } from './clients.ts'
import type { DowntimePhases } from './downtime.ts'
import { drainService, type DrainResult } from './drain.ts'
import { inPhase, type EngineContext } from './events.ts'
import type { DeployRequest, Plan } from './plan.ts'
import { startDeployment, waitForDeployment, type RolloutProgress, type RolloutTarget } from './rollout.ts'
import { tagService, TAG_PREVIOUS } from './service.ts'
import { lowerDelays, restoreDelays } from './short-drain.ts'

/** What one attempt has done so far: what a failure or a cancel must take into account. */
export interface Attempt {
  drained?: DrainResult
  /** Set once ECS accepted the new deployment: from then on the service runs the new revision. */
  deploymentId?: string
  updateSentAt: number
  progress: RolloutProgress
}

/** The phases of the downtime as this attempt lived them; undefined when nothing was serving. */
export function measuredPhases(attempt: Attempt): DowntimePhases | undefined {
  const { drained, progress, updateSentAt } = attempt
  if (drained?.stopServingAt === undefined || progress.runningAt === undefined) return undefined
  const drainedAt = drained.stopServingAt + drained.ms
  return {
    drain: drained.ms,
    handover: Math.max(0, updateSentAt - drainedAt),
    start: progress.runningAt - updateSentAt,
    healthy: progress.healthyAt === undefined ? 0 : progress.healthyAt - progress.runningAt,
  }
}

/** Drain (drain strategy), start the new deployment, wait until it is running, then healthy and stable. */
export async function runAttempt(
  engine: EngineContext,
  clients: AwsClients,
  request: DeployRequest,
  plan: Plan,
  target: RolloutTarget,
  budget: Budget,
  attempt: Attempt,
): Promise<void> {
  if (request.strategy === 'drain') {
    attempt.drained = await inPhase(engine, 'Drain', async () => {
      const lowered =
        request.drainConnectionsForSeconds !== undefined
          ? await lowerDelays(clients, plan.shortDrain, request.drainConnectionsForSeconds, request.region)
          : []
      try {
        return await drainService(clients, request.ref, budget, { live: plan.live, stopped: plan.stopped })
      } finally {
        // Success, failure or cancel alike; a kill leaves it to the post step.
        await restoreDelays(clients, lowered, request.region)
      }
    })
  }
  await tagService(
    clients,
    plan.service,
    { [TAG_PREVIOUS]: plan.previousArn },
    `rollback will not know ${TAG_PREVIOUS}`,
  )
  await inPhase(engine, 'Start', async () => {
    attempt.updateSentAt = Date.now()
    const predicted = plan.downtime?.measured.includes('start') ? plan.downtime.phases.start : undefined
    if (predicted !== undefined) target.expectedRunningAt = attempt.updateSentAt + predicted
    const started = await startDeployment(clients, request.ref, target, attempt.progress)
    // From here on the service runs the new revision: a failure must not "restore" over it.
    attempt.deploymentId = started
    engine.emit({ type: 'deployment-started', deploymentId: started })
    if (request.waitFor !== 'none') {
      await waitForDeployment(clients, request.ref, target, started, 'running', budget, attempt.progress)
    }
  })
  if (request.waitFor === 'healthy') {
    const deploymentId = attempt.deploymentId as string
    await inPhase(engine, 'Healthy', () =>
      waitForDeployment(clients, request.ref, target, deploymentId, 'healthy', budget, attempt.progress),
    )
  }
}
