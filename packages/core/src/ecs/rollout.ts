import { UpdateServiceCommand, type Service, type Task } from '@aws-sdk/client-ecs'
import * as core from '@actions/core'
import { ActionError } from '../errors.ts'
import { aws } from '../aws/errors.ts'
import { waitFor } from '../wait.ts'
import type { AwsClients } from './clients.ts'
import { readTargetHealth, targetGroupsOf } from './load-balancer.ts'
import { tolerateThrottling, type PollSettings } from './poll.ts'
import { describeService, type ServiceRef } from './service.ts'
import { describeStoppedTask, describeTasks, listDeploymentTasks, taskId, type TaskTracker } from './tasks.ts'

export type WaitFor = 'healthy' | 'running' | 'none'

/** Why a rollout failed, with the kind of failure a summary can name. */
export class RolloutFailure extends ActionError {}

export interface RolloutTarget {
  taskDefinitionArn: string
  desiredCount: number
  /** ECS only starts a new deployment for an unchanged revision when forced. */
  forceNewDeployment: boolean
  /** Whether task health means something (an essential container defines a health check). */
  healthChecked: boolean
}

/** Failed launches after which ECS's circuit breaker gives up: half the desired count, 3 to 200. */
export function failureThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(3, Math.ceil(desiredCount * 0.5)))
}

export async function startDeployment(
  clients: AwsClients,
  ref: ServiceRef,
  target: RolloutTarget,
): Promise<string> {
  const reply = await aws(`updating ${ref.service} to ${target.taskDefinitionArn.split('/').pop()}`, () =>
    clients.ecs.send(
      new UpdateServiceCommand({
        cluster: ref.cluster,
        service: ref.service,
        taskDefinition: target.taskDefinitionArn,
        desiredCount: target.desiredCount,
        forceNewDeployment: target.forceNewDeployment,
      }),
    ),
  )
  const service = reply.service as Service
  const deployment = service.deployments?.find((d) => d.status === 'PRIMARY')
  if (!deployment?.id) throw new ActionError('ECS accepted the update but reported no primary deployment.')
  core.info(
    `Deployment ${deployment.id} started: ${target.desiredCount} task(s) of ${target.taskDefinitionArn.split('/').pop()}.`,
  )
  return deployment.id
}

export interface RolloutProgress {
  running: Task[]
  /** When the new tasks were first all RUNNING, and first all healthy. */
  runningAt?: number
  healthyAt?: number
}

/**
 * Waits for the deployment to reach `until`: its tasks RUNNING, or fully healthy (rollout
 * COMPLETED, the old deployment gone, every new task HEALTHY where a health check is defined, and
 * the load balancer's targets healthy). A circuit-breaker rollback, a FAILED rollout, or new tasks
 * that keep stopping are failures, never successes.
 */
export async function waitForDeployment(
  clients: AwsClients,
  ref: ServiceRef,
  target: RolloutTarget,
  deploymentId: string,
  until: 'running' | 'healthy',
  options: {
    deadline: number
    signal: AbortSignal
    poll: PollSettings
    tracker: TaskTracker
    progress: RolloutProgress
  },
): Promise<void> {
  const reportedStops = new Set<string>()
  const threshold = failureThreshold(target.desiredCount)
  const revision = target.taskDefinitionArn.split('/').pop()
  await waitFor({
    what:
      until === 'healthy'
        ? `${revision} to be healthy`
        : `${target.desiredCount} task(s) of ${revision} to be RUNNING`,
    deadline: options.deadline,
    signal: options.signal,
    interval: options.poll,
    onProgress: (progress) => core.info(`  ${progress}`),
    observe: tolerateThrottling(async () => {
      const service = await describeService(clients, ref)
      const deployment = service.deployments?.find((d) => d.id === deploymentId)
      const primary = service.deployments?.find((d) => d.status === 'PRIMARY')
      if (deployment?.rolloutState === 'FAILED' || !deployment || deployment.status !== 'PRIMARY') {
        const reason = deployment?.rolloutStateReason
          ? `: ${deployment.rolloutStateReason.replace(/\.+$/, '')}`
          : ''
        const rolledBackTo =
          primary && primary.id !== deploymentId ? primary.taskDefinition?.split('/').pop() : undefined
        throw new RolloutFailure(
          rolledBackTo
            ? `ECS's deployment circuit breaker failed deployment ${deploymentId} and rolled the service back to ${rolledBackTo}${reason}.`
            : `Deployment ${deploymentId} FAILED${reason}.`,
        )
      }

      const stoppedArns = await listDeploymentTasks(clients, ref, deploymentId, 'STOPPED')
      const stopped = await describeTasks(
        clients,
        ref.cluster,
        stoppedArns.filter((arn) => !reportedStops.has(arn)),
      )
      for (const task of stopped) {
        reportedStops.add(task.taskArn as string)
        core.warning(`New ${describeStoppedTask(task)}`)
      }
      if (
        reportedStops.size >= threshold &&
        !service.deploymentConfiguration?.deploymentCircuitBreaker?.enable
      ) {
        throw new RolloutFailure(
          `${reportedStops.size} tasks of ${revision} stopped during the deployment; ECS would keep replacing them forever (the circuit breaker is off).`,
        )
      }

      const runningArns = await listDeploymentTasks(clients, ref, deploymentId, 'RUNNING')
      const tasks = await describeTasks(clients, ref.cluster, runningArns)
      options.tracker.observe(tasks)
      const running = tasks.filter(
        (t) => t.lastStatus === 'RUNNING' && t.taskDefinitionArn === target.taskDefinitionArn,
      )
      options.progress.running = running
      if (running.length >= target.desiredCount) options.progress.runningAt ??= Date.now()
      const runningText = `${running.length}/${target.desiredCount} new task(s) RUNNING`
      if (until === 'running') {
        return running.length >= target.desiredCount
          ? { done: true, value: undefined }
          : { done: false, progress: runningText }
      }

      const healthy = target.healthChecked ? running.filter((t) => t.healthStatus === 'HEALTHY') : running
      const waitingOn: string[] = []
      if (healthy.length < target.desiredCount) {
        waitingOn.push(
          target.healthChecked
            ? `${healthy.length}/${target.desiredCount} new task(s) HEALTHY (${running.map((t) => `${taskId(t.taskArn)} ${t.healthStatus}`).join(', ') || 'none running'})`
            : runningText,
        )
      }
      if (deployment.rolloutState && deployment.rolloutState !== 'COMPLETED')
        waitingOn.push(`rollout ${deployment.rolloutState}`)
      if ((service.deployments?.length ?? 0) > 1) waitingOn.push('ECS to retire the previous deployment')
      const groups = targetGroupsOf(service)
      const lb = groups.length > 0 ? await readTargetHealth(clients, groups) : undefined
      if (lb && (lb.healthy < target.desiredCount || lb.notReady.length > 0)) {
        waitingOn.push(
          `load balancer: ${lb.healthy} healthy${lb.notReady.length ? `, ${lb.notReady.join(', ')}` : ''}`,
        )
      }
      if (waitingOn.length === 0) {
        options.progress.healthyAt = Date.now()
        return { done: true, value: undefined }
      }
      return { done: false, progress: `waiting for ${waitingOn.join('; ')}` }
    }),
  })
}
