import { DescribeTaskDefinitionCommand, ListTaskDefinitionsCommand, type Service } from '@aws-sdk/client-ecs'
import * as log from '@ecs-lockstep/core/log'
import { ActionError } from '@ecs-lockstep/core/errors'
import { RequestError } from '@ecs-lockstep/core/inputs'
import { aws, awsErrorName } from '@ecs-lockstep/core/aws/errors'
import type { AwsClients } from './clients.ts'
import { readServiceTags, TAG_PREVIOUS, TAG_VERIFIED } from './service.ts'
import { shortRevision } from './task-definition.ts'

export interface RollbackTarget {
  arn: string
  /** Why this revision: shown in the log and the summary. */
  reason: string
  /** The revision being rolled back from: the one that failed. */
  failingArn: string
}

/**
 * The revision that failed: that of a deployment ECS marked FAILED (its circuit breaker may already
 * have made the previous revision primary again), else the service's primary revision.
 */
export function failingRevision(service: Service): string {
  const failed = (service.deployments ?? [])
    .filter((d) => d.rolloutState === 'FAILED')
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0]
  return failed?.taskDefinition ?? (service.taskDefinition as string)
}

async function statusOf(
  clients: AwsClients,
  reference: string,
): Promise<{ arn: string; status: string } | undefined> {
  try {
    const reply = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: reference }))
    return {
      arn: reply.taskDefinition?.taskDefinitionArn as string,
      status: reply.taskDefinition?.status ?? 'UNKNOWN',
    }
  } catch (error) {
    if (awsErrorName(error) === 'ClientException' || awsErrorName(error) === 'InvalidParameterException')
      return undefined
    throw error
  }
}

/** The next-older ACTIVE revision of the family: the last resort, as ecspresso does. */
async function previousActiveRevision(clients: AwsClients, currentArn: string): Promise<string | undefined> {
  const [family, revision] = (currentArn.split('/').pop() ?? '').split(':')
  const reply = await aws(`listing revisions of ${family}`, () =>
    clients.ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: family,
        status: 'ACTIVE',
        sort: 'DESC',
        maxResults: 100,
      }),
    ),
  )
  return (reply.taskDefinitionArns ?? []).find((arn) => {
    const [otherFamily, other] = (arn.split('/').pop() ?? '').split(':')
    return otherFamily === family && Number(other) < Number(revision)
  })
}

/**
 * Which revision to roll back to: the one named in `to`; else the last revision verify-health
 * recorded as healthy; else the one that ran before the last deploy; else the revision of another
 * deployment still on the service; else the next-older ACTIVE revision. Never the revision that
 * failed, never a deregistered one. The target may be the service's primary revision when ECS's
 * circuit breaker already switched back to it: the rollback then redeploys it the lock-safe way,
 * since ECS's own rollback starts it beside the failing tasks.
 */
export async function chooseRollbackTarget(
  clients: AwsClients,
  service: Service,
  to: string | undefined,
): Promise<RollbackTarget> {
  const failing = failingRevision(service)
  if (to) {
    const found = await statusOf(clients, to)
    if (!found)
      throw new RequestError('to', to, 'no such task definition: expected family:revision or an ARN')
    if (found.status !== 'ACTIVE') {
      throw new RequestError(
        'to',
        to,
        `that revision is ${found.status} (deregistered) and cannot run: expected an ACTIVE revision`,
      )
    }
    if (found.arn === failing) {
      throw new RequestError(
        'to',
        to,
        `${shortRevision(failing)} is the revision being rolled back from: expected another revision`,
      )
    }
    return { arn: found.arn, reason: 'named in `to`', failingArn: failing }
  }

  const tags = await readServiceTags(clients, service)
  const candidates: { reference: string | undefined; reason: string }[] = [
    { reference: tags[TAG_VERIFIED], reason: `the last revision verified healthy (tag ${TAG_VERIFIED})` },
    {
      reference: tags[TAG_PREVIOUS],
      reason: `the revision that ran before the last deploy (tag ${TAG_PREVIOUS})`,
    },
    ...(service.deployments ?? [])
      .filter((d) => d.rolloutState !== 'FAILED')
      .map((d) => ({
        reference: d.taskDefinition,
        reason: `the revision of the service's deployment ${d.id}`,
      })),
  ]
  for (const candidate of candidates) {
    if (!candidate.reference) continue
    if (candidate.reference === failing) {
      log.info(
        `Not ${shortRevision(candidate.reference)} (${candidate.reason}): it is the revision being rolled back from.`,
      )
      continue
    }
    const found = await statusOf(clients, candidate.reference)
    if (found?.status !== 'ACTIVE') {
      log.info(
        `Not ${shortRevision(candidate.reference)} (${candidate.reason}): it is ${found?.status ?? 'gone'}.`,
      )
      continue
    }
    return { arn: found.arn, reason: candidate.reason, failingArn: failing }
  }
  const older = await previousActiveRevision(clients, failing)
  if (older) {
    log.warning(
      `No verified revision is recorded on the service; rolling back to the next-older ACTIVE revision ${shortRevision(older)}, which was never verified by these actions.`,
    )
    return { arn: older, reason: 'the next-older ACTIVE revision (never verified)', failingArn: failing }
  }
  throw new ActionError(
    `There is no revision to roll back to: ${shortRevision(failing)} failed and no other ACTIVE revision of its family exists. Nothing was changed.`,
    { hint: 'Name one in `to`, or register a known-good revision first.' },
  )
}
