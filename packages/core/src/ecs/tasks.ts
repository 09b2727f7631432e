import { DescribeTasksCommand, ListTasksCommand, type DesiredStatus, type Task } from '@aws-sdk/client-ecs'
import * as core from '@actions/core'
import { aws } from '../aws/errors.ts'
import type { AwsClients } from './clients.ts'
import type { ServiceRef } from './service.ts'

export function taskId(arn: string | undefined): string {
  return arn?.split('/').pop() ?? '?'
}

/** Every task ARN of the service with the given desired status, across pages. */
async function listTasks(
  clients: AwsClients,
  ref: ServiceRef,
  desiredStatus: DesiredStatus,
  extra: { startedBy?: string } = {},
): Promise<string[]> {
  const arns: string[] = []
  let nextToken: string | undefined
  do {
    const page = await aws(`listing ${desiredStatus} tasks of ${ref.service}`, () =>
      clients.ecs.send(
        new ListTasksCommand({
          cluster: ref.cluster,
          // ECS refuses serviceName together with startedBy.
          ...(extra.startedBy ? { startedBy: extra.startedBy } : { serviceName: ref.service }),
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

/**
 * ARNs of the service's tasks. A task being stopped has desiredStatus STOPPED and vanishes from the
 * default (RUNNING) listing while its containers may still hold the volume, so a drain lists both.
 */
export async function listServiceTasks(
  clients: AwsClients,
  ref: ServiceRef,
  statuses: DesiredStatus[] = ['RUNNING'],
): Promise<string[]> {
  const lists = await Promise.all(statuses.map((status) => listTasks(clients, ref, status)))
  return [...new Set(lists.flat())]
}

export async function listDeploymentTasks(
  clients: AwsClients,
  ref: ServiceRef,
  deploymentId: string,
  desiredStatus: DesiredStatus,
): Promise<string[]> {
  return listTasks(clients, ref, desiredStatus, { startedBy: deploymentId })
}

export async function describeTasks(clients: AwsClients, cluster: string, arns: string[]): Promise<Task[]> {
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

  observe(tasks: Task[]): void {
    for (const task of tasks) {
      const id = taskId(task.taskArn)
      const state = stateOf(task)
      const previous = this.states.get(id)
      if (previous === state) continue
      this.states.set(id, state)
      const key = `${id}:${task.lastStatus}`
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, Date.now())
      const revision = task.taskDefinitionArn?.split('/').pop()
      core.info(`  task ${id} (${revision}): ${previous ? `${previous} → ` : ''}${state}`)
      if (task.lastStatus === 'STOPPED' && task.stoppedReason) core.info(`    ${describeStoppedTask(task)}`)
    }
  }
}
