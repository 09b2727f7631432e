import { DescribeTaskDefinitionCommand, ListTaskDefinitionsCommand, type Service } from '@aws-sdk/client-ecs'
import * as core from '@actions/core'
import { ActionError } from '../errors.ts'
import { inputError } from '../inputs.ts'
import { aws, awsErrorName } from '../aws/errors.ts'
import type { AwsClients } from './clients.ts'
import { readServiceTags, TAG_PREVIOUS, TAG_VERIFIED } from './service.ts'
import { shortRevision } from './task-definition.ts'

export interface RollbackTarget {
  arn: string
  /** Why this revision: shown in the log and the summary. */
  reason: string
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
 * recorded as healthy; else the one that ran before the current deploy; else the other deployment
 * still on the service; else the next-older ACTIVE revision. Never the revision that is failing
 * (the service's current one), never a deregistered one.
 */
export async function chooseRollbackTarget(
  clients: AwsClients,
  service: Service,
  to: string | undefined,
): Promise<RollbackTarget> {
  const current = service.taskDefinition as string
  if (to) {
    const found = await statusOf(clients, to)
    if (!found) throw inputError('to', to, 'no such task definition: expected family:revision or an ARN')
    if (found.status !== 'ACTIVE')
      throw inputError(
        'to',
        to,
        `that revision is ${found.status} (deregistered) and cannot run: expected an ACTIVE revision`,
      )
    if (found.arn === current) {
      throw inputError(
        'to',
        to,
        `the service already runs ${shortRevision(current)}, the revision being rolled back from: expected another revision`,
      )
    }
    return { arn: found.arn, reason: 'named in `to`' }
  }

  const tags = await readServiceTags(clients, service)
  const candidates: { reference: string | undefined; reason: string }[] = [
    { reference: tags[TAG_VERIFIED], reason: `the last revision verified healthy (tag ${TAG_VERIFIED})` },
    {
      reference: tags[TAG_PREVIOUS],
      reason: `the revision that ran before the last deploy (tag ${TAG_PREVIOUS})`,
    },
    ...(service.deployments ?? [])
      .filter((d) => d.status !== 'PRIMARY')
      .map((d) => ({
        reference: d.taskDefinition,
        reason: `the revision of the service's other deployment ${d.id}`,
      })),
  ]
  for (const candidate of candidates) {
    if (!candidate.reference) continue
    if (candidate.reference === current) {
      core.info(
        `Not ${shortRevision(candidate.reference)} (${candidate.reason}): it is the revision being rolled back from.`,
      )
      continue
    }
    const found = await statusOf(clients, candidate.reference)
    if (found?.status !== 'ACTIVE') {
      core.info(
        `Not ${shortRevision(candidate.reference)} (${candidate.reason}): it is ${found?.status ?? 'gone'}.`,
      )
      continue
    }
    return { arn: found.arn, reason: candidate.reason }
  }
  const older = await previousActiveRevision(clients, current)
  if (older) {
    core.warning(
      `No verified revision is recorded on the service; rolling back to the next-older ACTIVE revision ${shortRevision(older)}, which was never verified by these actions.`,
    )
    return { arn: older, reason: 'the next-older ACTIVE revision (never verified)' }
  }
  throw new ActionError(
    `There is no revision to roll back to: the service runs ${shortRevision(current)} and no other ACTIVE revision of its family exists. Nothing was changed.`,
    {
      hint: 'Name one in `to`, or register a known-good revision first.',
    },
  )
}
