import { UpdateServiceCommand } from '@aws-sdk/client-ecs'
import * as log from '@ecs-lockstep/core/log'
import { aws } from '@ecs-lockstep/core/aws/errors'
import type { Budget } from './budget.ts'
import type { EcsAccess } from './clients.ts'
import { drainService } from './drain.ts'
import type { RestorePoint } from './restore-point.ts'
import { readServiceState, revisionOf, type ServiceState } from './service-state.ts'

/** Already back: the restore point's revision and count, and no task of another revision alive. */
function isRestored(state: ServiceState, point: RestorePoint): boolean {
  return (
    state.service.taskDefinition === point.taskDefinitionArn &&
    state.service.desiredCount === point.desiredCount &&
    state.alive.every((t) => t.taskDefinitionArn === point.taskDefinitionArn && t.desiredStatus === 'RUNNING')
  )
}

/**
 * Puts the service back on the restore point's revision at its count. When the point says drain
 * (a single-writer service), the service is first scaled to 0 and every task, of whatever revision,
 * waited on until STOPPED: the old revision never starts beside a task that still holds the volume.
 * When the budget ends first, the drain's timeout is thrown and nothing has been started.
 */
export async function restoreService(clients: EcsAccess, point: RestorePoint, budget: Budget): Promise<void> {
  const ref = { cluster: point.cluster, service: point.service }
  const revision = revisionOf(point.taskDefinitionArn)
  const state = await readServiceState(clients, ref)
  if (isRestored(state, point)) {
    log.info(`${point.service} is already on ${revision} at ${point.desiredCount} task(s).`)
    return
  }
  if (point.drain)
    await drainService(clients, ref, budget, {
      live: state.alive,
      scaledDown: state.service.desiredCount === 0,
    })
  await aws(`restoring ${point.service} to ${revision}`, () =>
    clients.ecs.send(
      new UpdateServiceCommand({
        cluster: point.cluster,
        service: point.service,
        taskDefinition: point.taskDefinitionArn,
        desiredCount: point.desiredCount,
      }),
    ),
  )
  log.info(
    `Restored ${point.service} to ${revision} at ${point.desiredCount} task(s)${point.drain ? ' after every task had STOPPED' : ''}.`,
  )
}

/** What to run by hand when a restore could not finish. */
export function manualRestoreHint(point: RestorePoint): string {
  const { cluster, service } = point
  return (
    `${point.drain ? `Wait until no task of ${service} is left but STOPPED (aws ecs list-tasks --cluster ${cluster} --service-name ${service}; stopping tasks show up with --desired-status STOPPED), then run: ` : 'Run: '}` +
    `aws ecs update-service --cluster ${cluster} --service ${service} --task-definition ${revisionOf(point.taskDefinitionArn)} --desired-count ${point.desiredCount}`
  )
}
