import * as core from '@actions/core'
import * as log from '@ecs-lockstep/core/log'
import { ActionError, errorMessage } from '@ecs-lockstep/core/errors'
import {
  clearRestorePoint,
  LOWERED_STATE,
  readRestorePoint,
  type LoweredDelay,
  type RestorePoint,
} from './restore-point.ts'

/** Time the post step gives the drain: twice the expected drain and a minute, 2 to 30 minutes. */
function postRestoreMs(point: RestorePoint): number {
  return Math.min(30 * 60_000, Math.max(2 * 60_000, 2 * point.drainSeconds * 1000 + 60_000))
}

/**
 * Post step of the deploying actions: when the main step ended without putting the service back
 * (killed by the runner after a cancel, or out of time while old tasks were still stopping), finish
 * it here: drain every task to STOPPED, then start the previous revision. A main step that ended in
 * a state it reported itself left no restore point. Returns what it restored, or undefined when
 * there was nothing to do.
 */
export async function restoreAfterInterruption(
  signal: AbortSignal,
): Promise<{ service: string; revision: string; desiredCount: number; state: string } | undefined> {
  // A deregistration delay lowered for the drain (drain-connections-for) goes back first.
  await restoreSavedDelays()
  const point = readRestorePoint()
  if (!point) return undefined
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
    await restoreService(clients, point, createBudget(Date.now() + postRestoreMs(point), signal))
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
  return {
    service: point.service,
    revision: revision as string,
    desiredCount: point.desiredCount,
    state: line.replace(/^State now \(read back from ECS\): /, ''),
  }
}

/** The deregistration delays a killed main step lowered (drain-connections-for) and did not put back. */
async function restoreSavedDelays(): Promise<void> {
  const saved = core.getState(LOWERED_STATE)
  if (!saved) return
  const { region, lowered } = JSON.parse(saved) as { region: string; lowered: LoweredDelay[] }
  if (lowered.length === 0) return
  log.warning(
    `The main step ended with ${lowered.length} target group deregistration delay(s) still lowered; putting them back.`,
  )
  const { ElasticLoadBalancingV2Client } = await import('@aws-sdk/client-elastic-load-balancing-v2')
  const { clientConfig } = await import('@ecs-lockstep/core/aws/clients')
  const { restoreDelays } = await import('./short-drain.ts')
  await restoreDelays({ elb: new ElasticLoadBalancingV2Client(clientConfig(region)) }, lowered, region)
}
