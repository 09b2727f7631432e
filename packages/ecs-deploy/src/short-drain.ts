import * as core from '@actions/core'
import type { Task } from '@aws-sdk/client-ecs'
import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import * as log from '@ecs-lockstep/core/log'
import { errorMessage } from '@ecs-lockstep/core/errors'
import { RequestError } from '@ecs-lockstep/core/inputs'
import { aws } from '@ecs-lockstep/core/aws/errors'
import type { AwsClients } from './clients.ts'
import { LOWERED_STATE, type LoweredDelay } from './restore-point.ts'
import { privateIp } from './tasks.ts'

// drain-connections-for: a single-task service serves nothing while its old task drains, so the
// target group's deregistration delay (300 s by default) is waiting nobody needs. It is lowered
// for the drain only and put back right after, on every path; the post step puts it back when the
// step was killed in between.

const DELAY_KEY = 'deregistration_delay.timeout_seconds'

/** GITHUB_STATE key: the delays lowered and not yet put back. */
type ElbAccess = Pick<AwsClients, 'elb'>

function shortName(arn: string): string {
  return (
    arn
      .split(':')
      .pop()
      ?.replace(/^targetgroup\//, '') ?? arn
  )
}

async function delayOf(clients: ElbAccess, arn: string): Promise<number> {
  const reply = await aws(`reading the attributes of target group ${shortName(arn)}`, () =>
    clients.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn })),
  )
  return Number(reply.Attributes?.find((a) => a.Key === DELAY_KEY)?.Value ?? 300)
}

/**
 * Whether the service is each target group's only user: every target registered there is one of
 * its tasks (awsvpc targets are named by the task's IP). Anything else (another service's targets,
 * instance targets that cannot be told apart) is a refusal naming the input and the reason, in the
 * preflight, before anything changes. Returns the groups whose delay is worth lowering.
 */
export async function checkSoleUser(
  clients: ElbAccess,
  targetGroups: string[],
  live: Task[],
  seconds: number,
): Promise<{ arn: string; delay: number }[]> {
  const ours = new Set(live.map(privateIp).filter((ip): ip is string => Boolean(ip)))
  const worth: { arn: string; delay: number }[] = []
  const refuse = (why: string) =>
    new RequestError(
      'drainConnectionsFor',
      `${seconds}s`,
      `${why}: expected a target group only this service uses (or leave drain-connections-for empty)`,
    )
  if (targetGroups.length === 0) {
    log.info('drain-connections-for: the service has no load balancer, so there is no delay to shorten.')
    return []
  }
  const described = await aws('describing the target groups', () =>
    clients.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: targetGroups })),
  )
  for (const group of described.TargetGroups ?? []) {
    const arn = group.TargetGroupArn as string
    if (group.TargetType !== 'ip')
      throw refuse(
        `target group ${shortName(arn)} has ${group.TargetType} targets, which cannot be matched to this service's tasks`,
      )
    const health = await aws(`reading the targets of ${shortName(arn)}`, () =>
      clients.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
    )
    const others = (health.TargetHealthDescriptions ?? [])
      .map((t) => t.Target?.Id ?? '')
      .filter((id) => !ours.has(id))
    if (others.length > 0)
      throw refuse(
        `target group ${shortName(arn)} also serves ${others.length} target(s) that are not tasks of this service (${others.slice(0, 3).join(', ')})`,
      )
    const delay = await delayOf(clients, arn)
    if (delay > seconds) worth.push({ arn, delay })
    else
      log.info(
        `drain-connections-for: ${shortName(arn)}'s deregistration delay is ${delay}s already; left as it is.`,
      )
  }
  return worth
}

function saveLowered(lowered: LoweredDelay[], region: string): void {
  core.saveState(LOWERED_STATE, lowered.length > 0 ? JSON.stringify({ region, lowered }) : '')
}

/** Lowers each group's delay, recording first what to put back (the post step reads it). */
export async function lowerDelays(
  clients: ElbAccess,
  groups: { arn: string; delay: number }[],
  seconds: number,
  region: string,
): Promise<LoweredDelay[]> {
  const lowered: LoweredDelay[] = []
  for (const { arn, delay } of groups) {
    const entry = { targetGroupArn: arn, previousSeconds: delay, loweredToSeconds: seconds }
    saveLowered([...lowered, entry], region)
    await aws(`lowering the deregistration delay of ${shortName(arn)}`, () =>
      clients.elb.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: arn,
          Attributes: [{ Key: DELAY_KEY, Value: String(seconds) }],
        }),
      ),
    )
    lowered.push(entry)
    log.info(
      `Lowered the deregistration delay of ${shortName(arn)} from ${delay}s to ${seconds}s for the drain (drain-connections-for); it is put back right after.`,
    )
  }
  return lowered
}

/**
 * Puts every lowered delay back. Never throws: a failure is a warning with the exact command, since
 * the deploy itself is not at fault, and what is not put back stays recorded for the post step.
 */
export async function restoreDelays(
  clients: ElbAccess,
  lowered: LoweredDelay[],
  region: string,
): Promise<void> {
  const left: LoweredDelay[] = []
  for (const entry of lowered) {
    try {
      await aws(`putting back the deregistration delay of ${shortName(entry.targetGroupArn)}`, () =>
        clients.elb.send(
          new ModifyTargetGroupAttributesCommand({
            TargetGroupArn: entry.targetGroupArn,
            Attributes: [{ Key: DELAY_KEY, Value: String(entry.previousSeconds) }],
          }),
        ),
      )
      log.info(
        `Put the deregistration delay of ${shortName(entry.targetGroupArn)} back to ${entry.previousSeconds}s.`,
      )
    } catch (error) {
      left.push(entry)
      log.warning(
        `Could not put the deregistration delay of ${shortName(entry.targetGroupArn)} back to ${entry.previousSeconds}s (${errorMessage(error)}). Run: aws elbv2 modify-target-group-attributes --target-group-arn ${entry.targetGroupArn} --attributes Key=${DELAY_KEY},Value=${entry.previousSeconds}`,
      )
    }
  }
  saveLowered(left, region)
}
