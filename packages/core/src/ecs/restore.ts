import { UpdateServiceCommand } from '@aws-sdk/client-ecs'
import * as core from '@actions/core'
import { aws } from '../aws/errors.ts'
import type { AwsClients } from './clients.ts'
import { clearRestorePoint, type RestorePoint } from './restore-point.ts'

/**
 * Puts the service back on its previous revision at its previous count, so a cancelled step never
 * leaves it silently at zero. One UpdateService call: fast enough for the runner's cancel window.
 */
export async function restoreService(clients: AwsClients, point: RestorePoint, why: string): Promise<void> {
  const revision = point.taskDefinitionArn.split('/').pop()
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
  core.warning(
    `${why}: restored ${point.service} to ${revision} at ${point.desiredCount} task(s). ECS is starting it now; ` +
      'if an old task is still stopping, the first new one may fail once with "database is locked" and be replaced.',
  )
  clearRestorePoint()
}
