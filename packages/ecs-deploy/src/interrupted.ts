import * as log from '../log.ts'
import { ActionError, errorMessage } from '../errors.ts'
import type { ActionContext } from '../run.ts'
import { clearRestorePoint, readRestorePoint, type RestorePoint } from './restore-point.ts'

/** Time the post step gives the drain: twice the expected drain and a minute, 2 to 30 minutes. */
function postRestoreMs(point: RestorePoint): number {
  return Math.min(30 * 60_000, Math.max(2 * 60_000, 2 * point.drainSeconds * 1000 + 60_000))
}

/**
 * Post step of the deploying actions: when the main step ended without putting the service back
 * (killed by the runner after a cancel, or out of time while old tasks were still stopping), finish
 * it here: drain every task to STOPPED, then start the previous revision. A main step that ended in
 * a state it reported itself left no restore point.
 */
export async function restoreAfterInterruption(ctx: ActionContext): Promise<void> {
  // A deregistration delay lowered for the drain (drain-connections-for) goes back first.
  const { restoreSavedDelays } = await import('./short-drain.ts')
  await restoreSavedDelays()
  const point = readRestorePoint()
  if (!point) return
  const revision = point.taskDefinitionArn.split('/').pop()
  log.warning(
    `The main step ended before ${point.service} was back on ${revision}; restoring it now${point.drain ? ' (every task is drained to STOPPED first)' : ''}.`,
  )
  const { createClients } = await import('./clients.ts')
  const { createBudget } = await import('./budget.ts')
  const { restoreService, manualRestoreHint } = await import('./restore.ts')
  const { stateNow } = await import('./service-state.ts')
  const clients = createClients(point.region)
  const ref = { cluster: point.cluster, service: point.service }
  try {
    await restoreService(clients, point, createBudget(Date.now() + postRestoreMs(point), ctx.signal))
  } catch (error) {
    const { line } = await stateNow(clients, ref)
    throw new ActionError(
      `Could not restore ${point.service} to ${revision}: ${errorMessage(error)}\n${line}`,
      {
        hint: manualRestoreHint(point),
      },
    )
  }
  clearRestorePoint()
  const { line } = await stateNow(clients, ref)
  log.info(line)
  ctx.report.headline = `restored ${point.service} to ${revision} at ${point.desiredCount} task(s)`
  ctx.report.fact('State after the restore', line.replace(/^State now \(read back from ECS\): /, ''))
}
