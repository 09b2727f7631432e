import * as log from '@ecs-lockstep/core/log'
import { formatDuration, toSeconds } from '@ecs-lockstep/core/time'
import { measuredPhases, type Attempt } from './attempt.ts'
import { PHASES, type DowntimePhases, type DowntimePrediction } from './downtime.ts'
import type { DeployRequest, Plan } from './plan.ts'
import { shortRevision } from './task-definition.ts'

export interface DeployOutcome {
  taskDefinitionArn: string
  previousTaskDefinitionArn: string
  deploymentId: string
  taskArns: string[]
  drainMs: number
  startMs: number
  downtimeMs: number | undefined
  /** A drain deploy's downtime phase by phase, when it waited for the new tasks. */
  downtimePhases?: DowntimePhases
  /** What the preflight predicted, when it did and the deploy waited until healthy. */
  predictedDowntime?: DowntimePrediction
  /** Epoch ms the old tasks stopped serving (the downtime's start), with downtimePhases. */
  stoppedServingAt?: number
}

/** What a successful attempt measured, and its one line in the log. */
export function outcomeOf(request: DeployRequest, plan: Plan, attempt: Attempt): DeployOutcome {
  const newArn = plan.definition.taskDefinitionArn as string
  const drained = attempt.drained
  const finishedAt = attempt.progress.healthyAt ?? attempt.progress.runningAt ?? Date.now()
  const result: DeployOutcome = {
    taskDefinitionArn: newArn,
    previousTaskDefinitionArn: plan.previousArn,
    deploymentId: attempt.deploymentId as string,
    taskArns: attempt.progress.running.map((t) => t.taskArn as string),
    drainMs: drained?.ms ?? 0,
    startMs: request.waitFor === 'none' ? 0 : finishedAt - attempt.updateSentAt,
    downtimeMs:
      request.strategy === 'drain'
        ? request.waitFor === 'none' || drained?.stopServingAt === undefined
          ? undefined
          : finishedAt - drained.stopServingAt
        : (plan.service.deploymentConfiguration?.minimumHealthyPercent ?? 100) > 0
          ? 0
          : undefined,
  }
  const phases = request.strategy === 'drain' ? measuredPhases(attempt) : undefined
  if (phases) {
    result.downtimePhases = phases
    result.stoppedServingAt = drained?.stopServingAt as number
    if (plan.downtime && request.waitFor === 'healthy') {
      const predicted = plan.downtime
      result.predictedDowntime = predicted
      log.info(
        `Downtime ${formatDuration(result.downtimeMs ?? 0)} (predicted ${formatDuration(predicted.totalMs)}): ` +
          PHASES.map(
            (p) => `${p} ${formatDuration(phases[p])} (${formatDuration(predicted.phases[p])})`,
          ).join(', '),
      )
    }
  }
  const timings = [
    request.strategy === 'drain' ? `drain ${toSeconds(result.drainMs)}s` : '',
    `start ${toSeconds(result.startMs)}s`,
    request.waitFor === 'healthy' && request.stableForMs > 0
      ? `then stable for ${formatDuration(request.stableForMs)}`
      : '',
  ]
  const state = { healthy: 'healthy', running: 'running', none: 'deploying' }[request.waitFor]
  log.info(`${shortRevision(newArn)} is ${state} (${timings.filter(Boolean).join(', ')}).`)
  return result
}
