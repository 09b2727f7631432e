import type { Service, Task } from '@aws-sdk/client-ecs'
import { errorMessage } from '@ecs-lockstep/core/errors'
import { withTimeLimit } from '@ecs-lockstep/core/time'
import type { EcsAccess } from './clients.ts'
import { describeService, type ServiceRef } from './service.ts'
import { describeTasks, isStopped, listServiceTasks, taskId } from './tasks.ts'

/** The service as ECS reports it now: what every failure message states, never what we assume. */
export interface ServiceState {
  ref: ServiceRef
  service: Service
  /** Tasks of the service not yet STOPPED, whatever their desired status. */
  alive: Task[]
}

export function revisionOf(arn: string | undefined): string {
  return arn?.split('/').pop() ?? '(none)'
}

export async function readServiceState(clients: EcsAccess, ref: ServiceRef): Promise<ServiceState> {
  const [service, arns] = await Promise.all([
    describeService(clients, ref),
    listServiceTasks(clients, ref, ['RUNNING', 'STOPPED']),
  ])
  const tasks = await describeTasks(clients, ref.cluster, arns)
  return { ref, service, alive: tasks.filter((t) => !isStopped(t)) }
}

/** One line: counts, deployments, and each live task with its revision and status. */
export function describeState(state: ServiceState): string {
  const s = state.service
  const deployments = (s.deployments ?? [])
    .map(
      (d) =>
        `${d.status} ${revisionOf(d.taskDefinition)} ${d.runningCount ?? 0}/${d.desiredCount ?? 0}${d.rolloutState ? ` ${d.rolloutState}` : ''}`,
    )
    .join(', ')
  const alive = state.alive
    .map(
      (t) =>
        `${taskId(t.taskArn)} (${revisionOf(t.taskDefinitionArn)} ${t.lastStatus}${t.desiredStatus === 'STOPPED' && t.lastStatus !== 'STOPPED' ? ', stopping' : ''})`,
    )
    .join(', ')
  return `${state.ref.service} desired ${s.desiredCount ?? 0}, running ${s.runningCount ?? 0}, pending ${s.pendingCount ?? 0}; deployments: ${deployments || 'none'}; tasks not STOPPED: ${alive || 'none'}`
}

/** The state line for a failure message; a failed read says so instead of hiding the failure it explains. */
export async function stateNow(
  clients: EcsAccess,
  ref: ServiceRef,
  timeoutMs = 15_000,
): Promise<{ state?: ServiceState; line: string }> {
  try {
    const state = await withTimeLimit(readServiceState(clients, ref), timeoutMs, () => {
      throw new Error(`no answer within ${timeoutMs / 1000}s`)
    })
    return { state, line: `State now (read back from ECS): ${describeState(state)}.` }
  } catch (error) {
    return { line: `State now: could not be read back from ECS (${errorMessage(error)}).` }
  }
}
