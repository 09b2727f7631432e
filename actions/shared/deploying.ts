import * as core from '@actions/core'
import * as log from '@ecs-lockstep/core/log'
import type { ActionContext, Report } from '@ecs-lockstep/core'
import { formatDuration } from '@ecs-lockstep/core/time'
import {
  downtimeReport,
  firstCauseLine,
  shortRevision,
  type DeployOutcome,
  type DeployRequest,
  type Diagnosis,
  type EngineContext,
} from '@ecs-lockstep/ecs-deploy'

// The engine parts the two deploying actions use. They load this module once their inputs are
// checked; named re-exports (not the engine's whole namespace) keep the one-off code out of their bundles.
export { chooseRollbackTarget, createClients, deploy, describeService } from '@ecs-lockstep/ecs-deploy'

/**
 * What drain-and-deploy and rollback show of the engine's work: its phases as log groups and the
 * summary's timeline, the plan and the outcome as summary facts, a diagnosis in a log group and
 * summary sections, and step outputs set as soon as each value is known (so that a workflow can
 * act on a failed step: roll back only when the deployment was started).
 */
export function reportingEngine<Output extends string>(
  ctx: ActionContext<Output>,
  outputs: { previous?: NoInfer<Output>; next: NoInfer<Output>; deployment: NoInfer<Output> },
): EngineContext {
  return {
    signal: ctx.signal,
    killAt: () => ctx.cancellation.killAt,
    emit(event) {
      switch (event.type) {
        case 'phase-started':
          core.startGroup(event.phase)
          return
        case 'phase-ended':
          core.endGroup()
          ctx.report.phase({
            name: event.phase,
            status: event.status,
            startedAt: event.startedAt,
            ms: event.ms,
          })
          return
        case 'planned': {
          const rollback = event.purpose === 'rollback'
          if (outputs.previous) ctx.output(outputs.previous, event.previousTaskDefinitionArn)
          ctx.output(outputs.next, event.taskDefinitionArn)
          ctx.report.fact('Service', `${event.cluster}/${event.service}`)
          ctx.report.fact(
            rollback ? 'Primary revision before' : 'Previous revision',
            shortRevision(event.previousTaskDefinitionArn),
          )
          ctx.report.fact(
            rollback ? 'Rolled back to' : 'New revision',
            shortRevision(event.taskDefinitionArn),
          )
          ctx.report.fact('Strategy', `${event.strategy}${event.singleWriter ? ' (single-writer)' : ''}`)
          return
        }
        case 'deployment-started':
          ctx.output(outputs.deployment, event.deploymentId)
          return
        case 'diagnosed':
          reportDiagnosis(ctx.report, event.diagnosis)
          return
      }
    },
  }
}

/** The inputs drain-and-deploy and rollback share, as the engine's request fields. */
export function sharedRequestFields(
  given: {
    desiredCount: number | undefined
    strategy: DeployRequest['strategy']
    singleWriter: DeployRequest['singleWriter']
    waitFor: DeployRequest['waitFor']
    stableFor: number
    drainConnectionsFor: number | undefined
    timeout: number
  },
  startedAt: number,
): Pick<
  DeployRequest,
  | 'desiredCount'
  | 'strategy'
  | 'singleWriter'
  | 'waitFor'
  | 'stableForMs'
  | 'drainConnectionsForSeconds'
  | 'deadline'
> {
  return {
    desiredCount: given.desiredCount,
    strategy: given.strategy,
    singleWriter: given.singleWriter,
    waitFor: given.waitFor,
    stableForMs: given.stableFor,
    ...(given.drainConnectionsFor !== undefined
      ? { drainConnectionsForSeconds: Math.ceil(given.drainConnectionsFor / 1000) }
      : {}),
    deadline: startedAt + given.timeout,
  }
}

/** The summary's facts (and downtime section) of a deploy that succeeded. */
export function reportOutcome(report: Report, request: DeployRequest, outcome: DeployOutcome): void {
  if (outcome.downtimePhases && outcome.predictedDowntime && outcome.stoppedServingAt !== undefined) {
    report.section(
      'Downtime: predicted and measured',
      downtimeReport(outcome.predictedDowntime, outcome.downtimePhases, outcome.stoppedServingAt),
      { preformatted: false, open: true },
    )
  }
  report.fact('Deployment', outcome.deploymentId)
  report.fact('Drain', request.strategy === 'drain' ? formatDuration(outcome.drainMs) : 'none (rolling)')
  report.fact(
    'Start to ' + request.waitFor,
    request.waitFor === 'none' ? undefined : formatDuration(outcome.startMs),
  )
  if (request.waitFor === 'healthy' && request.stableForMs > 0)
    report.fact('Stable for', formatDuration(request.stableForMs))
  if (outcome.downtimeMs !== undefined) report.fact('Downtime', formatDuration(outcome.downtimeMs))
}

/** Puts a diagnosis in a log group and in the job summary, the same lines in both. */
function reportDiagnosis(report: Report, diagnosis: Diagnosis): void {
  core.startGroup('Why it failed: first cause, failed tasks, service events, container logs')
  if (diagnosis.firstCause) log.info(firstCauseLine(diagnosis))
  log.info('Tasks that failed (oldest first):')
  for (const line of diagnosis.failedTasks.length ? diagnosis.failedTasks : ['(none)']) log.info(`  ${line}`)
  log.info('Service events since the deploy began:')
  for (const line of diagnosis.events.length ? diagnosis.events : ['(none)']) log.info(`  ${line}`)
  for (const tail of diagnosis.logs) {
    log.info(`--- ${tail.title} ---`)
    log.info(tail.lines)
  }
  core.endGroup()
  if (diagnosis.firstCause)
    report.section('First cause', firstCauseLine(diagnosis).replace(/^First cause: /, ''), { open: true })
  if (diagnosis.failedTasks.length)
    report.section('Tasks that failed (oldest first)', diagnosis.failedTasks.join('\n'), { open: true })
  report.section('Service events since the deploy began', diagnosis.events.join('\n') || '(none)', {
    open: diagnosis.failedTasks.length === 0,
  })
  for (const tail of diagnosis.logs) report.section(tail.title, tail.lines)
}
