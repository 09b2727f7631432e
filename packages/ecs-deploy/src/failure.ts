import * as log from '@ecs-lockstep/core/log'
import { ActionError, CancelledError, errorMessage } from '@ecs-lockstep/core/errors'
import type { Attempt } from './attempt.ts'
import { cleanupBudget, type Budget } from './budget.ts'
import type { AwsClients } from './clients.ts'
import { diagnose, firstCauseLine } from './diagnose.ts'
import { drainService, scaleToZero } from './drain.ts'
import { inPhase, type EngineContext } from './events.ts'
import type { DeployRequest, Plan } from './plan.ts'
import { clearRestorePoint, saveRestorePoint, type RestorePoint } from './restore-point.ts'
import { manualRestoreHint, restoreService } from './restore.ts'
import { replacementsOf, RolloutFailure, TaskFailure } from './rollout.ts'
import { revisionOf, stateNow } from './service-state.ts'
import { taskId } from './tasks.ts'

/** Time kept before the runner's SIGKILL for reading the state back and writing the summary. */
const KILL_MARGIN_MS = 2_000

/** Everything a failed attempt leaves for the code that makes the service safe and names the state. */
export interface FailedAttempt {
  request: DeployRequest
  plan: Plan
  point: RestorePoint
  /** The attempt's budget: a failure's cleanup keeps its polling and tracker, with the step's whole deadline. */
  budget: Budget
  attempt: Attempt
  began: number
}

function isCancel(engine: EngineContext, error: unknown): boolean {
  return engine.signal.aborted || error instanceof CancelledError
}

/** Turns a failed attempt into the error the step ends with, after putting the service in a safe state. */
export async function afterFailure(
  engine: EngineContext,
  clients: AwsClients,
  f: FailedAttempt,
  error: unknown,
): Promise<Error> {
  if (isCancel(engine, error)) return afterCancel(engine, clients, f)
  const { request, point } = f
  const cleanup = cleanupBudget(f.budget, () => request.deadline, engine.signal)
  if (!f.attempt.deploymentId) {
    // Nothing new was started: put the old revision back (drained first) rather than leave it at 0.
    try {
      await inPhase(engine, 'Restore', () => restoreService(clients, point, cleanup))
    } catch (restoreError) {
      if (isCancel(engine, restoreError)) return afterCancel(engine, clients, f)
      const { line } = await stateNow(clients, request.ref)
      log.warning(`Could not restore ${request.ref.service} yet: ${errorMessage(restoreError)}`)
      // The restore point stays: the post step finishes the drain and the restore.
      return new ActionError(
        `${errorMessage(error)}\nThe ${request.purpose} failed before ${revisionOf(f.plan.definition.taskDefinitionArn)} was started, and ${revisionOf(point.taskDefinitionArn)} could not be restored within the timeout (${errorMessage(restoreError)}); this step's post step finishes the drain and restores it.\n${line}`,
        { hint: manualRestoreHint(point), cause: error },
      )
    }
    clearRestorePoint()
    const { line } = await stateNow(clients, request.ref)
    return new ActionError(
      `${errorMessage(error)}\nNothing new was started; ${request.ref.service} was restored to ${revisionOf(point.taskDefinitionArn)} at ${point.desiredCount} task(s).\n${line}`,
      { hint: error instanceof ActionError ? error.hint : undefined, cause: error },
    )
  }
  clearRestorePoint()
  return afterRolloutFailure(engine, clients, f, cleanup, error)
}

/**
 * The new revision was started and failed. On a single-writer service the service is scaled to 0
 * and drained: ECS would otherwise keep starting replacements, each beside the previous one still
 * stopping on the same volume. Then the diagnosis, and the state as ECS reports it.
 */
async function afterRolloutFailure(
  engine: EngineContext,
  clients: AwsClients,
  f: FailedAttempt,
  cleanup: Budget,
  error: unknown,
): Promise<Error> {
  const { request, plan } = f
  const { service } = request.ref
  const newRevision = revisionOf(plan.definition.taskDefinitionArn)
  let stopped = ''
  if (plan.singleWriter) {
    try {
      await inPhase(engine, 'Stop the failed revision', async () => {
        log.info(`Scaling ${service} to 0: ECS must not start replacements beside the failed task.`)
        await scaleToZero(clients, request.ref)
        return drainService(clients, request.ref, cleanup, { scaledDown: true })
      })
      const failedTask = error instanceof TaskFailure ? error.task : undefined
      const replacements = failedTask
        ? await replacementsOf(clients, request.ref, f.attempt.deploymentId as string, failedTask)
        : []
      stopped = `${service} was scaled to 0 and every task is STOPPED${replacements.length ? ` (including ECS's replacement task(s) ${replacements.map((t) => taskId(t.taskArn)).join(', ')}, stopped before they could run long beside it)` : ''}.`
    } catch (stopError) {
      if (isCancel(engine, stopError)) return afterCancel(engine, clients, f)
      stopped = `${service} was scaled to 0, but not every task had STOPPED yet (${errorMessage(stopError)}).`
    }
  }
  const diagnosis = await diagnose(clients, request.ref, {
    since: f.began,
    revisionArn: plan.definition.taskDefinitionArn as string,
    stoppedOnPurpose: f.attempt.drained?.stopped ?? new Set(),
    tracker: f.budget.tracker,
    deadline: request.deadline,
  })
  engine.emit({ type: 'diagnosed', diagnosis })
  const { line } = await stateNow(clients, request.ref, stateReadMs(request.deadline))
  const cause = firstCauseLine(diagnosis)
  return new RolloutFailure([errorMessage(error), cause, stopped, line].filter(Boolean).join('\n'), {
    hint: recoveryHint(request, plan, newRevision),
  })
}

/** How long the last read of the state may take: what the step's timeout leaves, 2 to 15 s. */
function stateReadMs(deadline: number): number {
  return Math.min(15_000, Math.max(2_000, deadline - Date.now()))
}

function recoveryHint(request: DeployRequest, plan: Plan, newRevision: string): string {
  const { cluster, service } = request.ref
  const previous = revisionOf(plan.previousArn)
  if (request.purpose === 'rollback') {
    return `No healthy revision is running. Deploy a known-good revision with drain-and-deploy (task-definition: family:revision), or by hand once every task is STOPPED: aws ecs update-service --cluster ${cluster} --service ${service} --task-definition <family:revision> --desired-count ${plan.desiredCount}`
  }
  return (
    `${newRevision} did not become stable; ${previous} is no longer running. Run the rollback action (it drains, then starts the last verified revision), ` +
    `or by hand once every task is STOPPED: aws ecs update-service --cluster ${cluster} --service ${service} --task-definition ${previous} --desired-count ${plan.previousCount || 1}`
  )
}

/**
 * Cancelled: restore the previous revision the lock-safe way within the time the runner leaves
 * before its SIGKILL. When the old tasks are still stopping then, nothing is started: the restore
 * point stays saved and the post step finishes the drain and the restore.
 */
async function afterCancel(engine: EngineContext, clients: AwsClients, f: FailedAttempt): Promise<Error> {
  const { point, request } = f
  const what = f.attempt.deploymentId ? 'waiting for the new deployment' : 'draining'
  const fallbackKillAt = Date.now() + 10_000
  const killAt = () => engine.killAt() ?? fallbackKillAt
  const cleanup = cleanupBudget(f.budget, () => killAt() - KILL_MARGIN_MS)
  const readBack = () => stateNow(clients, request.ref, Math.max(500, killAt() - Date.now() - 1000))
  saveRestorePoint(point)
  try {
    await restoreService(clients, point, cleanup)
  } catch (error) {
    const { line } = await readBack()
    return new CancelledError(
      what,
      `Every task must be STOPPED before ${revisionOf(point.taskDefinitionArn)} starts again, and there was no time left before the runner's kill (${errorMessage(error)}): this step's post step finishes the drain and restores ${revisionOf(point.taskDefinitionArn)} at ${point.desiredCount} task(s).\n${line}`,
    )
  }
  clearRestorePoint()
  const { line } = await readBack()
  return new CancelledError(
    what,
    `${request.ref.service} was restored to ${revisionOf(point.taskDefinitionArn)} at ${point.desiredCount} task(s)${point.drain ? ' after every task had STOPPED' : ''}.\n${line}`,
  )
}
