import {
  DescribeClustersCommand,
  DescribeServicesCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  type Deployment,
  type Service,
  type ServiceEvent,
} from '@aws-sdk/client-ecs'
import * as log from '@ecs-lockstep/core/log'
import { RequestError, shown } from '@ecs-lockstep/core/inputs'
import { aws, awsErrorName } from '@ecs-lockstep/core/aws/errors'
import type { EcsAccess } from './clients.ts'

/** Service tags through which the actions remember revisions across runs. */
export const TAG_VERIFIED = 'ecs-lockstep:verified-task-definition'
export const TAG_PREVIOUS = 'ecs-lockstep:previous-task-definition'

export interface ServiceRef {
  cluster: string
  service: string
}

/** The errors an input can be blamed for: a missing cluster or service is the input's fault, not AWS's. */
function noSuchCluster(clients: EcsAccess, ref: ServiceRef, status?: string): RequestError {
  return new RequestError(
    'cluster',
    ref.cluster,
    `${status ? `that cluster is ${status}` : `there is no such cluster in ${clients.region}`}: expected an ACTIVE cluster of this account (check aws-region and the credentials' account too)`,
  )
}

/**
 * Whether the cluster is missing or not ACTIVE: asked only once a service was not found in it,
 * so that the right input is named. Without ecs:DescribeClusters the service is blamed.
 */
async function clusterProblem(clients: EcsAccess, ref: ServiceRef): Promise<RequestError | undefined> {
  try {
    const reply = await clients.ecs.send(new DescribeClustersCommand({ clusters: [ref.cluster] }))
    const cluster = reply.clusters?.[0]
    return !cluster || cluster.status !== 'ACTIVE' ? noSuchCluster(clients, ref, cluster?.status) : undefined
  } catch {
    return undefined
  }
}

export async function describeService(clients: EcsAccess, ref: ServiceRef): Promise<Service> {
  let reply
  try {
    reply = await aws(`describing service ${ref.service}`, () =>
      clients.ecs.send(
        new DescribeServicesCommand({ cluster: ref.cluster, services: [ref.service], include: ['TAGS'] }),
      ),
    )
  } catch (error) {
    if (awsErrorName((error as { cause?: unknown }).cause) === 'ClusterNotFoundException')
      throw noSuchCluster(clients, ref)
    throw error
  }
  const service = reply.services?.[0]
  if (!service) {
    const wrongCluster = await clusterProblem(clients, ref)
    if (wrongCluster) throw wrongCluster
    const reason = reply.failures?.[0]?.reason ?? 'MISSING'
    throw new RequestError(
      'service',
      ref.service,
      `there is no such service in cluster ${shown(ref.cluster)} (${reason}): expected an existing service (this action does not create one)`,
    )
  }
  return service
}

export function primaryDeployment(service: Service): Deployment | undefined {
  return service.deployments?.find((d) => d.status === 'PRIMARY')
}

/** A deployment is settled when only the primary is left and its rollout is not in progress. */
export function deploymentInProgress(service: Service): boolean {
  const primary = primaryDeployment(service)
  return (service.deployments?.length ?? 0) > 1 || primary?.rolloutState === 'IN_PROGRESS'
}

export function describeDeployments(service: Service): string {
  return (service.deployments ?? [])
    .map(
      (d) =>
        `${d.status} ${d.id} ${d.taskDefinition?.split('/').pop()} ${d.runningCount ?? 0}/${d.desiredCount ?? 0} running, rollout ${d.rolloutState ?? 'n/a'}`,
    )
    .join('; ')
}

/** Service events at or after `since`, oldest first, as ECS wrote them. */
export function eventsSince(service: Service, since: number): ServiceEvent[] {
  return (service.events ?? []).filter((e) => (e.createdAt?.getTime() ?? 0) >= since - 1000).reverse()
}

/** Reads the service's tags (some APIs return none inline without include TAGS). */
export async function readServiceTags(clients: EcsAccess, service: Service): Promise<Record<string, string>> {
  if (service.tags) return Object.fromEntries(service.tags.map((t) => [t.key ?? '', t.value ?? '']))
  const reply = await aws('reading the service tags', () =>
    clients.ecs.send(new ListTagsForResourceCommand({ resourceArn: service.serviceArn })),
  )
  return Object.fromEntries((reply.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']))
}

/**
 * Remembers a revision on the service. Failing to tag never fails a deploy (old ARN format,
 * missing ecs:TagResource): it only makes a later rollback guess, so it is a warning.
 */
export async function tagService(
  clients: EcsAccess,
  service: Service,
  tags: Record<string, string>,
  /** What is lost without the tag, for the warning. */
  without: string,
): Promise<void> {
  try {
    await clients.ecs.send(
      new TagResourceCommand({
        resourceArn: service.serviceArn,
        tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      }),
    )
  } catch (error) {
    log.warning(
      `Could not tag the service (${(error as Error).name}: ${(error as Error).message}); ${without}. Grant ecs:TagResource to fix.`,
    )
  }
}
