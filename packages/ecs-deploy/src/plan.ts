import { type Service, type Task, type TaskDefinition } from '@aws-sdk/client-ecs'
import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import * as log from '@ecs-lockstep/core/log'
import { ActionError } from '@ecs-lockstep/core/errors'
import { RequestError } from '@ecs-lockstep/core/inputs'
import { aws } from '@ecs-lockstep/core/aws/errors'
import { waitFor } from '@ecs-lockstep/core/wait'
import type { Budget } from './budget.ts'
import type { AwsClients } from './clients.ts'
import { liveServiceTasks } from './drain.ts'
import {
  describePrediction,
  observedPhases,
  parseLastDeploy,
  predictDowntime,
  TAG_LAST_DEPLOY,
  type DowntimePrediction,
} from './downtime.ts'
import { checkSoleUser } from './short-drain.ts'
import { assertImagesExist } from './images.ts'
import { targetGroupsOf } from './load-balancer.ts'
import { tolerateTransient, type PollSettings } from './poll.ts'
import type { WaitFor } from './rollout.ts'
import { deploymentInProgress, describeDeployments, describeService, type ServiceRef } from './service.ts'
import {
  efsVolumes,
  registerTaskDefinition,
  renderTaskDefinition,
  shortRevision,
  stopTimeoutSeconds,
  type RenderedTaskDefinition,
} from './task-definition.ts'
import { taskId } from './tasks.ts'

export type Strategy = 'drain' | 'rolling'

export interface DeployRequest {
  ref: ServiceRef
  region: string
  /** What to run: a definition to render (drain-and-deploy) or an existing revision (rollback). */
  definition:
    | {
        kind: 'render'
        reference?: string
        containerName?: string
        image?: string
        environment: Record<string, string>
        /** ECS secrets: name → valueFrom. */
        secrets?: Record<string, string>
      }
    | { kind: 'existing'; arn: string }
  /** Undefined: the service's current count (1 when it is 0). */
  desiredCount: number | undefined
  strategy: Strategy
  singleWriter: 'auto' | 'true' | 'false'
  waitFor: WaitFor
  /** wait-for healthy: how long the new tasks must stay healthy and unchanged. */
  stableForMs: number
  /** Epoch ms by which everything, drain included, must be done. */
  deadline: number
  /** `proceed`: a rollback replaces the failing deployment rather than waiting for it. */
  ifDeploymentInProgress: 'wait' | 'fail' | 'proceed'
  purpose: 'deploy' | 'rollback'
  poll?: PollSettings
  /**
   * drain-connections-for: lower the target groups' deregistration delay to this for the drain
   * (only target groups this service alone uses), and put it back right after.
   */
  drainConnectionsForSeconds?: number
}

/** What the preflight found and decided: everything the run needs, checked before any change. */
export interface Plan {
  service: Service
  previousArn: string
  previousCount: number
  definition: TaskDefinition
  desiredCount: number
  /** The service's tasks not yet STOPPED, as the plan listed them: where the drain starts. */
  live: Task[]
  /** The service's tasks that listing found STOPPED (ECS keeps them about an hour), by ARN. */
  stopped: Map<string, Task>
  /** Two tasks must never be alive at once (EFS volumes, or forced on). */
  singleWriter: boolean
  /** How long a drain may take: the longest deregistration delay plus the stop timeout. */
  drainSeconds: number
  /** Target groups whose deregistration delay the drain lowers (drain-connections-for), and their delay now. */
  shortDrain: { arn: string; delay: number }[]
  /** The deregistration delay the drain runs with, seconds (0 without a load balancer). */
  drainDelaySeconds: number
  /** The drain strategy's expected downtime, phase by phase. */
  downtime?: DowntimePrediction
}

const SLOW_DRAIN_SECONDS = 60

async function waitForOtherDeployment(
  clients: AwsClients,
  request: DeployRequest,
  service: Service,
  budget: Budget,
): Promise<Service> {
  if (!deploymentInProgress(service) || request.ifDeploymentInProgress === 'proceed') return service
  const current = describeDeployments(service)
  if (request.ifDeploymentInProgress === 'fail') {
    throw new ActionError(
      `Another deployment of ${request.ref.service} is in progress: ${current}. Nothing was changed.`,
      {
        hint: 'Wait for it to finish (or set if-deployment-in-progress: wait), then re-run.',
      },
    )
  }
  log.info(`Another deployment is in progress (${current}); waiting for it to settle first.`)
  return waitFor({
    what: 'the deployment already in progress to settle',
    deadline: budget.deadline,
    signal: budget.signal,
    interval: budget.poll,
    onProgress: (p) => log.info(`  ${p}`),
    observe: tolerateTransient(async () => {
      const latest = await describeService(clients, request.ref)
      return deploymentInProgress(latest)
        ? { done: false, progress: describeDeployments(latest) }
        : { done: true, value: latest }
    }),
  })
}

async function expectedDrainSeconds(clients: AwsClients, service: Service, definition: TaskDefinition) {
  const groups = targetGroupsOf(service)
  let delay = 0
  let slowest: string | undefined
  for (const arn of groups) {
    const reply = await aws('reading the target group attributes', () =>
      clients.elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn })),
    )
    const value = Number(
      reply.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value ?? 300,
    )
    if (value >= delay) {
      delay = value
      slowest = arn
    }
  }
  let healthCheckIntervalSeconds: number | undefined
  if (groups.length > 0) {
    const described = await aws('reading the target groups', () =>
      clients.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: groups })),
    )
    const intervals = (described.TargetGroups ?? []).map((g) => g.HealthCheckIntervalSeconds ?? 30)
    if (intervals.length > 0) healthCheckIntervalSeconds = Math.max(...intervals)
  }
  return {
    delay,
    targetGroup: slowest,
    total: delay + stopTimeoutSeconds(definition),
    healthCheckIntervalSeconds,
  }
}

function containerHealthCheck(definition: TaskDefinition) {
  const check = (definition.containerDefinitions ?? []).find(
    (c) => c.essential !== false && c.healthCheck?.command?.length,
  )?.healthCheck
  return check
    ? { intervalSeconds: check.interval ?? 30, startPeriodSeconds: check.startPeriod ?? 0 }
    : undefined
}

/** Everything that can be checked before the service is touched; registers the new revision. */
export async function preflight(clients: AwsClients, request: DeployRequest, budget: Budget): Promise<Plan> {
  const identity = await aws('checking the AWS credentials', () =>
    clients.sts.send(new GetCallerIdentityCommand({})),
  )
  log.info(`AWS account ${identity.Account} (${identity.Arn}), region ${request.region}`)
  let service = await describeService(clients, request.ref)
  if (service.status !== 'ACTIVE') {
    throw new ActionError(
      `Service '${request.ref.service}' is ${service.status}, not ACTIVE. Nothing was changed.`,
    )
  }
  service = await waitForOtherDeployment(clients, request, service, budget)
  // Checked before anything is registered: a refusal leaves AWS as it was.
  const shortening = request.drainConnectionsForSeconds !== undefined && request.strategy === 'drain'
  // Listed here when the check needs them, and not listed again below.
  const stopped = new Map<string, Task>()
  const listedEarly = shortening ? await liveServiceTasks(clients, request.ref, stopped) : undefined
  const shortDrain =
    shortening && listedEarly
      ? await checkSoleUser(
          clients,
          targetGroupsOf(service),
          listedEarly,
          request.drainConnectionsForSeconds as number,
        )
      : []
  const previousArn = service.taskDefinition as string
  const previousCount = service.desiredCount ?? 0

  let rendered: RenderedTaskDefinition
  if (request.definition.kind === 'render') {
    rendered = await renderTaskDefinition(clients, {
      reference: request.definition.reference,
      currentArn: previousArn,
      containerName: request.definition.containerName,
      image: request.definition.image,
      environment: request.definition.environment,
      ...(request.definition.secrets ? { secrets: request.definition.secrets } : {}),
    })
  } else {
    rendered = await renderTaskDefinition(clients, {
      reference: request.definition.arn,
      currentArn: previousArn,
      containerName: undefined,
      image: undefined,
      environment: {},
    })
  }

  const volumes = efsVolumes(rendered.input)
  const singleWriter = request.singleWriter === 'auto' ? volumes.length > 0 : request.singleWriter === 'true'
  const desiredCount = request.desiredCount ?? (previousCount > 0 ? previousCount : 1)
  if (singleWriter) {
    const why =
      volumes.length > 0
        ? `the task definition mounts EFS volume(s) ${volumes.join(', ')}, and two tasks alive at once would both open them ("database is locked")`
        : 'single-writer is on'
    if (desiredCount > 1) {
      throw new RequestError(
        'desiredCount',
        String(desiredCount),
        `${why}: expected 1 for a single-writer service (or set single-writer: false if the app can share its volume)`,
      )
    }
    if (request.strategy === 'rolling') {
      throw new RequestError(
        'strategy',
        'rolling',
        `${why}; a rolling update starts the new task before the old one has stopped: expected drain`,
      )
    }
  }

  const images = (rendered.input.containerDefinitions ?? []).map((c) => c.image ?? '').filter(Boolean)
  await assertImagesExist(clients, images)
  const definition = await registerTaskDefinition(clients, rendered)
  const newArn = definition.taskDefinitionArn as string

  const live = listedEarly ?? (await liveServiceTasks(clients, request.ref, stopped))
  const measured = await expectedDrainSeconds(clients, service, definition)
  // With drain-connections-for the slowest lowered group waits only that long.
  const lowered = request.drainConnectionsForSeconds
  const drain =
    lowered !== undefined && shortDrain.some((g) => g.arn === measured.targetGroup)
      ? { ...measured, delay: lowered, total: lowered + (measured.total - measured.delay) }
      : measured
  const health = containerHealthCheck(definition)
  const downtime =
    request.strategy === 'drain'
      ? predictDowntime(
          {
            drainDelaySeconds: drain.targetGroup ? drain.delay : 0,
            configuredDelaySeconds: measured.delay,
            stopTimeoutSeconds: stopTimeoutSeconds(definition),
            ...(measured.healthCheckIntervalSeconds !== undefined
              ? { healthCheckIntervalSeconds: measured.healthCheckIntervalSeconds }
              : {}),
            ...(health ? { containerHealthCheck: health } : {}),
          },
          parseLastDeploy(service.tags?.find((t) => t.key === TAG_LAST_DEPLOY)?.value),
          observedPhases([...live, ...stopped.values()]),
        )
      : undefined
  const lines = [
    `Service:        ${request.ref.service} in cluster ${request.ref.cluster}`,
    `Current:        ${shortRevision(previousArn)} at ${previousCount} task(s); alive: ${live.map((t) => `${taskId(t.taskArn)} (${t.lastStatus})`).join(', ') || 'none'}`,
    `New:            ${shortRevision(newArn)} at ${desiredCount} task(s) (${rendered.existingArn ? 'existing revision' : 'registered now'} from ${rendered.source})`,
    `Strategy:       ${request.strategy}${singleWriter ? ` (single-writer: ${volumes.join(', ') || 'forced on'})` : ''}`,
    request.strategy === 'drain'
      ? `Expected drain: up to ~${drain.total}s (${drain.targetGroup ? `deregistration delay ${drain.delay}s + ` : ''}stop timeout ${stopTimeoutSeconds(definition)}s)`
      : `Rolling:        ECS replaces tasks within its minimum/maximum healthy percent`,
    ...(downtime
      ? [
          `Downtime:       ${describePrediction(downtime)}`,
          ...downtime.shorten.map((line) => `  shorter with: ${line}`),
        ]
      : []),
  ]
  log.info(lines.join('\n'))
  if (singleWriter && request.strategy === 'drain' && drain.targetGroup && drain.total > SLOW_DRAIN_SECONDS) {
    log.warning(
      `Draining will take up to ${drain.total}s: target group ${drain.targetGroup} keeps each stopped task DEACTIVATING for its deregistration delay (${drain.delay}s) before ECS sends SIGTERM. ` +
        `A single-task service serves nothing during that time anyway; set drain-connections-for (e.g. 5s) to lower it for the drain only, or lower deregistration_delay.timeout_seconds for good (e.g. aws elbv2 modify-target-group-attributes --target-group-arn ${drain.targetGroup} --attributes Key=deregistration_delay.timeout_seconds,Value=5).`,
    )
  }
  if (singleWriter) warnAboutEcsOverlaps(request.ref, service)
  return {
    service,
    previousArn,
    previousCount,
    definition,
    desiredCount,
    live,
    stopped,
    singleWriter,
    drainSeconds: drain.total,
    shortDrain,
    drainDelaySeconds: drain.targetGroup ? drain.delay : 0,
    ...(downtime ? { downtime } : {}),
  }
}

/**
 * What this action does is lock-safe, but ECS replaces tasks on its own too (an unhealthy task, a
 * crashed one, a circuit-breaker rollback), and then it starts the replacement beside the task
 * still stopping. Say so when the service's settings make that worse than it has to be.
 */
function warnAboutEcsOverlaps(ref: ServiceRef, service: Service): void {
  const config = service.deploymentConfiguration
  const problems: string[] = []
  if ((config?.maximumPercent ?? 200) > 100) {
    problems.push(
      `maximumPercent is ${config?.maximumPercent ?? 200} (ECS starts a replacement before the old task stops): set it to 100 and minimumHealthyPercent to 0`,
    )
  }
  if (config?.deploymentCircuitBreaker?.enable && config.deploymentCircuitBreaker.rollback) {
    problems.push(
      'the circuit breaker rolls back by itself (it starts the previous revision beside the failing tasks): keep enable, set rollback to false, and let the rollback action do it lock-safe',
    )
  }
  if (problems.length === 0) return
  log.warning(
    `${ref.service} is single-writer, but when ECS itself replaces a task it may run two at once: ${problems.join('; ')}. ` +
      `aws ecs update-service --cluster ${ref.cluster} --service ${ref.service} --deployment-configuration "maximumPercent=100,minimumHealthyPercent=0,deploymentCircuitBreaker={enable=true,rollback=false}"`,
  )
}
