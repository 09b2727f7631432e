import type { Service } from '@aws-sdk/client-ecs'
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import { aws } from '@ecs-lockstep/core/aws/errors'
import type { AwsClients } from './clients.ts'

/** The target groups a service registers its tasks in. */
export function targetGroupsOf(service: Service): string[] {
  return [
    ...new Set((service.loadBalancers ?? []).map((lb) => lb.targetGroupArn).filter(Boolean)),
  ] as string[]
}

export interface TargetHealth {
  /** Healthy targets in the group with the fewest: every group must serve. */
  healthy: number
  /** One line per target that is not healthy (draining ones excepted). */
  notReady: string[]
  /** Each target that is not draining: its id (a task's IP with awsvpc), state and ELB's reason. */
  targets: { id: string; port: number | undefined; state: string; why: string | undefined }[]
}

/**
 * The health of the service's targets, leaving out draining ones: those are old tasks on their
 * way out, and only the others must be healthy.
 */
export async function readTargetHealth(
  clients: Pick<AwsClients, 'elb'>,
  targetGroups: string[],
): Promise<TargetHealth> {
  let healthy = Number.MAX_SAFE_INTEGER
  const notReady: string[] = []
  const targets: TargetHealth['targets'] = []
  for (const arn of targetGroups) {
    const reply = await aws('reading target health', () =>
      clients.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
    )
    const current = (reply.TargetHealthDescriptions ?? []).filter((t) => t.TargetHealth?.State !== 'draining')
    healthy = Math.min(healthy, current.filter((t) => t.TargetHealth?.State === 'healthy').length)
    for (const t of current) {
      const why = t.TargetHealth?.Description ?? t.TargetHealth?.Reason
      const state = t.TargetHealth?.State ?? 'unknown'
      targets.push({ id: t.Target?.Id ?? '?', port: t.Target?.Port, state, why })
      if (state === 'healthy') continue
      notReady.push(
        `target ${t.Target?.Id}:${t.Target?.Port} ${t.TargetHealth?.State}${why ? ` (${why})` : ''}`,
      )
    }
  }
  return { healthy: targetGroups.length === 0 ? 0 : healthy, notReady, targets }
}
