import { DescribeTasksCommand, ListTasksCommand, type DesiredStatus, type Task } from '@aws-sdk/client-ecs'
import * as log from '@ecs-lockstep/core/log'
import { aws } from '@ecs-lockstep/core/aws/errors'
import type { EcsAccess } from './clients.ts'
import type { ServiceRef } from './service.ts'

export function taskId(arn: string | undefined): string {
  return arn?.split('/').pop() ?? '?'
}

/**
 * Every task ARN with the given desired status, across pages: of the service, of the tasks a
 * deployment started (ECS refuses serviceName together with startedBy), or of the whole cluster.
 */
async function listTasks(
  clients: EcsAccess,
  scope: { cluster: string; service?: string; startedBy?: string },
  desiredStatus: DesiredStatus,
): Promise<string[]> {
  const arns: string[] = []
  let nextToken: string | undefined
  const of = scope.service ?? `cluster ${scope.cluster}`
  do {
    const page = await aws(`listing ${desiredStatus} tasks of ${of}`, () =>
      clients.ecs.send(
        new ListTasksCommand({
          cluster: scope.cluster,
          ...(scope.startedBy
            ? { startedBy: scope.startedBy }
            : scope.service
              ? { serviceName: scope.service }
              : {}),
          desiredStatus,
          nextToken,
        }),
      ),
    )
    arns.push(...(page.taskArns ?? []))
    nextToken = page.nextToken
  } while (nextToken)
  return arns
}

/** ARNs of every task of the cluster, whatever service or none, with these desired statuses. */
export async function listClusterTasks(
  clients: EcsAccess,
  cluster: string,
  statuses: DesiredStatus[] = ['RUNNING', 'STOPPED'],
): Promise<string[]> {
  const lists = await Promise.all(statuses.map((status) => listTasks(clients, { cluster }, status)))
  return [...new Set(lists.flat())]
}

/**
 * ARNs of the service's tasks. A task being stopped has desiredStatus STOPPED and vanishes from the
 * default (RUNNING) listing while its containers may still hold the volume, so a drain lists both.
 */
export async function listServiceTasks(
  clients: EcsAccess,
  ref: ServiceRef,
  statuses: DesiredStatus[] = ['RUNNING'],
): Promise<string[]> {
  const lists = await Promise.all(
    statuses.map((status) => listTasks(clients, { cluster: ref.cluster, service: ref.service }, status)),
  )
  return [...new Set(lists.flat())]
}

export async function listDeploymentTasks(
  clients: EcsAccess,
  ref: ServiceRef,
  deploymentId: string,
  desiredStatus: DesiredStatus,
): Promise<string[]> {
  return listTasks(clients, { cluster: ref.cluster, startedBy: deploymentId }, desiredStatus)
}

export async function describeTasks(clients: EcsAccess, cluster: string, arns: string[]): Promise<Task[]> {
  const tasks: Task[] = []
  for (let i = 0; i < arns.length; i += 100) {
    const batch = arns.slice(i, i + 100)
    const reply = await aws('describing tasks', () =>
      clients.ecs.send(new DescribeTasksCommand({ cluster, tasks: batch })),
    )
    tasks.push(...(reply.tasks ?? []))
  }
  return tasks
}

export function isStopped(task: Task): boolean {
  return task.lastStatus === 'STOPPED'
}

/** One line about a stopped task: why it stopped and how each container ended. */
export function describeStoppedTask(task: Task): string {
  const containers = (task.containers ?? [])
    .map((c) => {
      const exit = c.exitCode !== undefined ? `exit ${c.exitCode}` : 'no exit code'
      return `${c.name}: ${exit}${c.reason ? ` (${c.reason})` : ''}`
    })
    .join('; ')
  const revision = task.taskDefinitionArn?.split('/').pop()
  return `task ${taskId(task.taskArn)} (${revision}) stopped: ${task.stoppedReason ?? 'no reason given'}${task.stopCode ? ` [${task.stopCode}]` : ''}${containers ? ` — ${containers}` : ''}`
}

export function privateIp(task: Task): string | undefined {
  for (const attachment of task.attachments ?? []) {
    const ip = attachment.details?.find((d) => d.name === 'privateIPv4Address')?.value
    if (ip) return ip
  }
  return task.containers?.flatMap((c) => c.networkInterfaces ?? [])[0]?.privateIpv4Address
}

/**
 * Why a task stops, without exit codes while it is still stopping (they are not known yet; the
 * diagnosis gives them once it is STOPPED, so the log and the summary never disagree).
 */
export function describeStopping(task: Task): string {
  if (task.lastStatus === 'STOPPED') return describeStoppedTask(task)
  const revision = task.taskDefinitionArn?.split('/').pop()
  return `task ${taskId(task.taskArn)} (${revision}) is being stopped (${task.lastStatus}): ${task.stoppedReason ?? 'no reason given'}${task.stopCode ? ` [${task.stopCode}]` : ''}`
}

function stateOf(task: Task): string {
  const health = task.healthStatus && task.healthStatus !== 'UNKNOWN' ? `, ${task.healthStatus}` : ''
  const desired =
    task.desiredStatus && task.desiredStatus !== 'RUNNING' ? ` (desired ${task.desiredStatus})` : ''
  return `${task.lastStatus}${desired}${health}`
}

/**
 * Logs each task's state changes once, however often it is polled, and remembers when each change
 * was first seen (the drain/start timings and the downtime come from these).
 */
export class TaskTracker {
  private readonly states = new Map<string, string>()
  readonly firstSeen = new Map<string, number>()
  /** The last failing load-balancer check seen per task ARN, for the diagnosis. */
  readonly lastFailedCheck = new Map<string, string>()
  /** Task ARN by private IP (awsvpc targets are named by IP). */
  private readonly byIp = new Map<string, string>()

  /** Remembers why each task's target is not healthy. */
  noteTargets(
    targets: { id: string; port: number | undefined; state: string; why: string | undefined }[],
  ): void {
    for (const target of targets) {
      if (target.state === 'healthy' || target.state === 'initial') continue
      const arn = this.byIp.get(target.id) ?? [...this.byIp.values()].find((a) => taskId(a) === target.id)
      if (arn)
        this.lastFailedCheck.set(
          arn,
          `load balancer target ${target.id}:${target.port ?? ''} ${target.state}${target.why ? ` (${target.why})` : ''}`,
        )
    }
  }

  observe(tasks: Task[]): void {
    for (const task of tasks) {
      const ip = privateIp(task)
      if (ip) this.byIp.set(ip, task.taskArn as string)
      const id = taskId(task.taskArn)
      const state = stateOf(task)
      const previous = this.states.get(id)
      if (previous === state) continue
      this.states.set(id, state)
      const key = `${id}:${task.lastStatus}`
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, Date.now())
      const revision = task.taskDefinitionArn?.split('/').pop()
      log.info(`  task ${id} (${revision}): ${previous ? `${previous} → ` : ''}${state}`)
      if (task.lastStatus === 'STOPPED' && task.stoppedReason) log.info(`    ${describeStoppedTask(task)}`)
    }
  }
}
