import * as core from '@actions/core'
import type { ActionContext } from '../run.ts'
import { readRestorePoint } from './restore-point.ts'

/**
 * Post step of the deploying actions: when the main step was killed after changing the service
 * but before it could restore or report (the runner's SIGKILL after a cancel), put the previous
 * revision back. A main step that ended on its own left no restore point.
 */
export async function restoreAfterInterruption(ctx: ActionContext): Promise<void> {
  const point = readRestorePoint()
  if (!point) return
  core.warning(`The main step ended while changing ${point.service} and could not restore it; restoring now.`)
  const { createClients } = await import('./clients.ts')
  const { restoreService } = await import('./restore.ts')
  await restoreService(createClients(point.region), point, 'The deploy step was interrupted')
  ctx.report.headline = `restored ${point.service} to ${point.taskDefinitionArn.split('/').pop()} at ${point.desiredCount} task(s)`
}
