import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { DescribeTaskDefinitionCommand, type ContainerDefinition, type Task } from '@aws-sdk/client-ecs'
import * as core from '@actions/core'
import type { Report } from '../report.ts'
import { errorMessage } from '../errors.ts'
import type { AwsClients } from './clients.ts'
import { describeService, eventsSince, type ServiceRef } from './service.ts'
import { describeStoppedTask, describeTasks, listServiceTasks, taskId } from './tasks.ts'

const LOG_LINES = 50

export interface Diagnosis {
  events: string[]
  stoppedTasks: string[]
  logs: { title: string; lines: string }[]
}

/** A stopped task worth showing: it failed, rather than being stopped on purpose by the drain. */
function failedTask(task: Task, since: number): boolean {
  if ((task.stoppedAt?.getTime() ?? 0) < since - 1000) return false
  const containerFailed = (task.containers ?? []).some(
    (c) => (c.exitCode !== undefined && c.exitCode !== 0) || c.reason,
  )
  // ECS stops an unhealthy task itself (ServiceSchedulerInitiated), so its containers exit cleanly.
  const unhealthy = /health check/i.test(task.stoppedReason ?? '')
  return (
    containerFailed ||
    unhealthy ||
    task.stopCode === 'EssentialContainerExited' ||
    task.stopCode === 'TaskFailedToStart'
  )
}

async function containerLog(
  clients: AwsClients,
  task: Task,
  container: ContainerDefinition,
): Promise<string> {
  const options = container.logConfiguration?.options ?? {}
  const group = options['awslogs-group']
  const prefix = options['awslogs-stream-prefix']
  if (container.logConfiguration?.logDriver !== 'awslogs' || !group || !prefix) return ''
  const stream = `${prefix}/${container.name}/${taskId(task.taskArn)}`
  try {
    const reply = await clients.logs.send(
      new GetLogEventsCommand({
        logGroupName: group,
        logStreamName: stream,
        limit: LOG_LINES,
        startFromHead: false,
      }),
    )
    const lines = (reply.events ?? []).map((e) => e.message?.trimEnd() ?? '')
    return `${group} ${stream}\n${lines.join('\n') || '(no log events)'}`
  } catch (error) {
    return `${group} ${stream}: could not read the log (${errorMessage(error)})`
  }
}

/**
 * Gathers why a deploy failed: service events since it began, each failed task's stoppedReason and
 * exit codes, and the last log lines of each failed container that logs to CloudWatch. Never
 * throws: a diagnosis that fails must not hide the failure it explains.
 */
export async function diagnose(clients: AwsClients, ref: ServiceRef, since: number): Promise<Diagnosis> {
  const diagnosis: Diagnosis = { events: [], stoppedTasks: [], logs: [] }
  try {
    const service = await describeService(clients, ref)
    diagnosis.events = eventsSince(service, since).map(
      (e) => `${e.createdAt?.toISOString().slice(11, 19)} ${e.message}`,
    )
    const stoppedArns = await listServiceTasks(clients, ref, ['STOPPED'])
    // Oldest first: the first failure is usually the cause, later ones its consequences.
    const failed = (await describeTasks(clients, ref.cluster, stoppedArns))
      .filter((t) => failedTask(t, since))
      .sort((a, b) => (a.stoppedAt?.getTime() ?? 0) - (b.stoppedAt?.getTime() ?? 0))
    diagnosis.stoppedTasks = failed.map(describeStoppedTask)
    const definitions = new Map<string, ContainerDefinition[]>()
    for (const task of failed.slice(0, 5)) {
      const arn = task.taskDefinitionArn as string
      if (!definitions.has(arn)) {
        const reply = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }))
        definitions.set(arn, reply.taskDefinition?.containerDefinitions ?? [])
      }
      for (const container of task.containers ?? []) {
        if (container.exitCode === 0 && !container.reason) continue
        const definition = definitions.get(arn)?.find((c) => c.name === container.name)
        const log = definition ? await containerLog(clients, task, definition) : ''
        if (log)
          diagnosis.logs.push({
            title: `Last ${LOG_LINES} log lines of ${container.name} in task ${taskId(task.taskArn)}`,
            lines: log,
          })
      }
    }
  } catch (error) {
    diagnosis.events.push(`(could not gather everything: ${errorMessage(error)})`)
  }
  return diagnosis
}

/** Puts a diagnosis in a log group and in the job summary. */
export function reportDiagnosis(report: Report, diagnosis: Diagnosis): void {
  core.startGroup('Why it failed: service events, stopped tasks, container logs')
  core.info('Service events since the deploy began:')
  for (const line of diagnosis.events.length ? diagnosis.events : ['(none)']) core.info(`  ${line}`)
  core.info('Tasks that failed:')
  for (const line of diagnosis.stoppedTasks.length ? diagnosis.stoppedTasks : ['(none)'])
    core.info(`  ${line}`)
  for (const log of diagnosis.logs) {
    core.info(`--- ${log.title} ---`)
    core.info(log.lines)
  }
  core.endGroup()
  if (diagnosis.stoppedTasks.length)
    report.section('Tasks that failed', diagnosis.stoppedTasks.join('\n'), { open: true })
  report.section('Service events since the deploy began', diagnosis.events.join('\n') || '(none)', {
    open: diagnosis.stoppedTasks.length === 0,
  })
  for (const log of diagnosis.logs) report.section(log.title, log.lines)
}
