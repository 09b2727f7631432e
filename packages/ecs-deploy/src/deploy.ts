import * as log from '../log.ts'
import { ActionError, CancelledError, errorMessage } from '../errors.ts'
import type { ActionContext } from '../run.ts'
import { formatDuration, toSeconds } from '../time.ts'
import { cleanupBudget, createBudget, type Budget } from './budget.ts'
import type { AwsClients } from './clients.ts'
import { diagnose, firstCauseLine, reportDiagnosis } from './diagnose.ts'
import { downtimeReport, formatLastDeploy, PHASES, TAG_LAST_DEPLOY, type DowntimePhases } from './downtime.ts'
import { drainService, scaleToZero, type DrainResult } from './drain.ts'
import { lowerDelays, restoreDelays } from './short-drain.ts'
import { preflight, type DeployRequest, type Plan } from './plan.ts'
import { clearRestorePoint, saveRestorePoint, type RestorePoint } from './restore-point.ts'
import { manualRestoreHint, restoreService } from './restore.ts'
import {
  replacementsOf,
  RolloutFailure,
  startDeployment,
  TaskFailure,
  waitForDeployment,
  type RolloutProgress,
  type RolloutTarget,
} from './rollout.ts'
import { tagService, TAG_PREVIOUS } from './service.ts'
import { revisionOf, stateNow } from './service-state.ts'
import { hasHealthCheck, shortRevision } from './task-definition.ts'
import { taskId } from './tasks.ts'

export type { DeployRequest, Strategy } from './plan.ts'

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
}

/** The phases of the downtime as this attempt lived them; undefined when nothing was serving. */
function measuredPhases(attempt: Attempt): DowntimePhases | undefined {
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

/** What one attempt has done so far: what a failure or a cancel must take into account. */
interface Attempt {
  drained?: DrainResult
  /** Set once ECS accepted the new deployment: from then on the service runs the new revision. */
  deploymentId?: string
  updateSentAt: number
  progress: RolloutProgress
}

/** Time kept back from the waits for what follows a failure (stop, restore, diagnosis): a tenth, at most a minute. */
function reserveMs(request: DeployRequest, began: number): number {
  return Math.min(60_000, Math.max(0, (request.deadline - began) * 0.1))
}

/** Time kept before the runner's SIGKILL for reading the state back and writing the summary. */
const KILL_MARGIN_MS = 2_000

/**
 * The deploy both actions share: preflight (nothing changes until everything checkable is
 * checked), drain (scale to 0 and wait until every old task is STOPPED), start the new deployment,
 * wait until it is healthy and stays so. A cancel or a failure before the start puts the previous
 * revision back, drained first; a failure after it says why, and on a single-writer service stops
 * the service first so that ECS's replacements do not pile up beside the failed task. Every
 * failure message ends with the state read back from ECS.
 */
export async function deploy(
  ctx: ActionContext,
  clients: AwsClients,
  request: DeployRequest,
): Promise<DeployOutcome> {
  const began = Date.now()
  const budget = createBudget(() => request.deadline - reserveMs(request, began), ctx.signal, request.poll)
  const plan = await ctx.phase('Preflight', () => preflight(ctx, clients, request, budget))
  const newArn = plan.definition.taskDefinitionArn as string
  if (request.outputs.previous) ctx.output(request.outputs.previous, plan.previousArn)
  ctx.output(request.outputs.next, newArn)
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
    await runAttempt(ctx, clients, request, plan, target, budget, attempt)
  } catch (error) {
    throw await afterFailure(ctx, clients, { request, plan, point, budget, attempt, began }, error)
  }
  clearRestorePoint()
  const result = outcome(ctx, request, plan, attempt)
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

async function runAttempt(
  ctx: ActionContext,
  clients: AwsClients,
  request: DeployRequest,
  plan: Plan,
  target: RolloutTarget,
  budget: Budget,
  attempt: Attempt,
): Promise<void> {
  if (request.strategy === 'drain') {
    attempt.drained = await ctx.phase('Drain', async () => {
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
  await ctx.phase('Start', async () => {
    attempt.updateSentAt = Date.now()
    const predicted = plan.downtime?.measured.includes('start') ? plan.downtime.phases.start : undefined
    if (predicted !== undefined) target.expectedRunningAt = attempt.updateSentAt + predicted
    const started = await startDeployment(clients, request.ref, target, attempt.progress)
    // From here on the service runs the new revision: a failure must not "restore" over it.
    attempt.deploymentId = started
    ctx.output(request.outputs.deployment, started)
    if (request.waitFor !== 'none') {
      await waitForDeployment(clients, request.ref, target, started, 'running', budget, attempt.progress)
    }
  })
  if (request.waitFor === 'healthy') {
    await ctx.phase('Healthy', () =>
      waitForDeployment(
        clients,
        request.ref,
        target,
        attempt.deploymentId as string,
        'healthy',
        budget,
        attempt.progress,
      ),
    )
  }
}

interface FailureContext {
  request: DeployRequest
  plan: Plan
  point: RestorePoint
  budget: Budget
  attempt: Attempt
  began: number
}

function isCancel(ctx: ActionContext, error: unknown): boolean {
  return ctx.signal.aborted || error instanceof CancelledError
}

/** Turns a failed attempt into the error the step ends with, after putting the service in a safe state. */
async function afterFailure(
  ctx: ActionContext,
  clients: AwsClients,
  f: FailureContext,
  error: unknown,
): Promise<Error> {
  if (isCancel(ctx, error)) return afterCancel(ctx, clients, f)
  const { request, point } = f
  const cleanup = cleanupBudget(f.budget, () => request.deadline, ctx.signal)
  if (!f.attempt.deploymentId) {
    // Nothing new was started: put the old revision back (drained first) rather than leave it at 0.
    try {
      await ctx.phase('Restore', () => restoreService(clients, point, cleanup))
    } catch (restoreError) {
      if (isCancel(ctx, restoreError)) return afterCancel(ctx, clients, f)
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
  return afterRolloutFailure(ctx, clients, f, cleanup, error)
}

/**
 * The new revision was started and failed. On a single-writer service the service is scaled to 0
 * and drained: ECS would otherwise keep starting replacements, each beside the previous one still
 * stopping on the same volume. Then the diagnosis, and the state as ECS reports it.
 */
async function afterRolloutFailure(
  ctx: ActionContext,
  clients: AwsClients,
  f: FailureContext,
  cleanup: Budget,
  error: unknown,
): Promise<Error> {
  const { request, plan } = f
  const { service } = request.ref
  const newRevision = revisionOf(plan.definition.taskDefinitionArn)
  let stopped = ''
  if (plan.singleWriter) {
    try {
      await ctx.phase('Stop the failed revision', async () => {
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
      if (isCancel(ctx, stopError)) return afterCancel(ctx, clients, f)
      stopped = `${service} was scaled to 0, but not every task had STOPPED yet (${errorMessage(stopError)}).`
    }
  }
  const diagnosis = await diagnose(clients, request.ref, {
    since: f.began,
    revisionArn: plan.definition.taskDefinitionArn as string,
    stoppedOnPurpose: f.attempt.drained?.stopped ?? new Set(),
    tracker: f.budget.tracker,
  })
  reportDiagnosis(ctx.report, diagnosis)
  const { line } = await stateNow(clients, request.ref)
  const cause = firstCauseLine(diagnosis)
  return new RolloutFailure([errorMessage(error), cause, stopped, line].filter(Boolean).join('\n'), {
    hint: recoveryHint(request, plan, newRevision),
  })
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
async function afterCancel(ctx: ActionContext, clients: AwsClients, f: FailureContext): Promise<Error> {
  const { point, request } = f
  const what = f.attempt.deploymentId ? 'waiting for the new deployment' : 'draining'
  const fallbackKillAt = Date.now() + 10_000
  const killAt = () => ctx.cancellation.killAt ?? fallbackKillAt
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

function outcome(ctx: ActionContext, request: DeployRequest, plan: Plan, attempt: Attempt): DeployOutcome {
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
    if (plan.downtime && request.waitFor === 'healthy') {
      const predicted = plan.downtime
      log.info(
        `Downtime ${formatDuration(result.downtimeMs ?? 0)} (predicted ${formatDuration(predicted.totalMs)}): ` +
          PHASES.map(
            (p) => `${p} ${formatDuration(phases[p])} (${formatDuration(predicted.phases[p])})`,
          ).join(', '),
      )
      ctx.report.section(
        'Downtime: predicted and measured',
        downtimeReport(predicted, phases, attempt.drained?.stopServingAt as number),
        { preformatted: false, open: true },
      )
    }
  }
  ctx.report.fact('Deployment', result.deploymentId)
  ctx.report.fact('Drain', request.strategy === 'drain' ? formatDuration(result.drainMs) : 'none (rolling)')
  ctx.report.fact(
    'Start to ' + request.waitFor,
    request.waitFor === 'none' ? undefined : formatDuration(result.startMs),
  )
  if (request.waitFor === 'healthy' && request.stableForMs > 0)
    ctx.report.fact('Stable for', formatDuration(request.stableForMs))
  if (result.downtimeMs !== undefined) ctx.report.fact('Downtime', formatDuration(result.downtimeMs))
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
