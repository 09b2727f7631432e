import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { DescribeTaskDefinitionCommand, type ContainerDefinition, type Task } from '@aws-sdk/client-ecs'
import { withTimeLimit } from '@ecs-lockstep/core/time'
import { errorMessage } from '@ecs-lockstep/core/errors'
import type { AwsClients } from './clients.ts'
import { containersRan } from './rollout.ts'
import { describeService, eventsSince, type ServiceRef } from './service.ts'
import { revisionOf } from './service-state.ts'
import { describeStoppedTask, describeTasks, listServiceTasks, taskId, type TaskTracker } from './tasks.ts'

export const LOG_LINES = 50
/** Logs of this many failed tasks besides the first cause: enough to see a pattern, not a flood. */
const MORE_LOGS = 2

export interface FailedTask {
  task: Task
  /** The stopped-task line, the same in the log and the summary. */
  line: string
  /** Set when ECS started this task while another task still held the volume. */
  heldBy?: Task
}

export interface Diagnosis {
  events: string[]
  /** The earliest failure of a new-revision task that was not a consequence of another. */
  firstCause?: FailedTask & { check?: string }
  /** Every failed task since the deploy began, oldest first, each labelled. */
  failedTasks: string[]
  logs: { title: string; lines: string }[]
}

export interface DiagnosisScope {
  /** Epoch ms the deploy began: older events and tasks are not this deploy's. */
  since: number
  /** The revision being deployed: its tasks' failures are the candidates for the cause. */
  revisionArn: string
  /** Tasks the suite stopped on purpose (the drain): never failures. */
  stoppedOnPurpose: Set<string>
  tracker?: TaskTracker
  /** Epoch ms: the step's deadline. The diagnosis returns what it has gathered by then (given 3 s at least). */
  deadline?: number
}

/**
 * A stopped task that failed, rather than being stopped on purpose: by a drain, or by any
 * scale-down (ECS says "Scaling activity initiated by …"), whose SIGKILL of a container that
 * ignored SIGTERM (exit 137) is no failure of the task's.
 */
function failed(task: Task): boolean {
  if (/^Scaling activity initiated by/.test(task.stoppedReason ?? '')) return false
  const containerFailed = (task.containers ?? []).some(
    (c) => (typeof c.exitCode === 'number' && c.exitCode !== 0) || c.reason,
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

const time = (date: Date | undefined) => date?.getTime()

/** When the task's containers got the volume: they start after the image pull. */
function containersStartedAt(task: Task): number | undefined {
  return time(task.pullStoppedAt) ?? time(task.startedAt) ?? time(task.createdAt)
}

/** When its containers let go of the volume (they exit before the task reaches STOPPED). */
function containersEndedAt(task: Task): number | undefined {
  return time(task.executionStoppedAt) ?? time(task.stoppedAt)
}

/** The other task whose containers ran on the service's volume when this one's started, if any. */
function holderOf(task: Task, all: Task[]): Task | undefined {
  const start = containersStartedAt(task)
  if (start === undefined || !containersRan(task)) return undefined
  return all.find((other) => {
    if (other.taskArn === task.taskArn || !containersRan(other)) return false
    const from = containersStartedAt(other)
    const to = containersEndedAt(other)
    return from !== undefined && from < start && (to === undefined || to > start)
  })
}

/** The last LOG_LINES lines a container wrote to CloudWatch Logs, under a `group stream` header; '' without awslogs. */
export async function containerLog(
  clients: Pick<AwsClients, 'logs'>,
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

/** The log tails of a task's containers: the failed ones, or all of them when none failed (a health check). */
async function taskLogs(
  clients: AwsClients,
  task: Task,
  definitions: Map<string, ContainerDefinition[]>,
  label: string,
): Promise<Diagnosis['logs']> {
  const arn = task.taskDefinitionArn as string
  if (!definitions.has(arn)) {
    const reply = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }))
    definitions.set(arn, reply.taskDefinition?.containerDefinitions ?? [])
  }
  const containers = task.containers ?? []
  const failing = containers.filter((c) => (typeof c.exitCode === 'number' && c.exitCode !== 0) || c.reason)
  const logs: Diagnosis['logs'] = []
  for (const container of failing.length > 0 ? failing : containers) {
    const definition = definitions.get(arn)?.find((c) => c.name === container.name)
    const log = definition ? await containerLog(clients, task, definition) : ''
    if (log)
      logs.push({
        title: `${label}: last ${LOG_LINES} log lines of ${container.name} in task ${taskId(task.taskArn)}`,
        lines: log,
      })
  }
  return logs
}

/**
 * The failing health check ECS named in its events for a task, e.g. "(task 1a2b) (port 8000) is
 * unhealthy in (target-group arn) due to (reason Health checks failed with these codes: [503])".
 */
export function failedCheckInEvents(messages: string[], id: string): string | undefined {
  for (const message of messages) {
    if (!message.includes(`(task ${id})`)) continue
    const lb = /\(port (\d+)\) is unhealthy in \(target-group ([^)]+)\) due to \(reason (.*?)\)\.?$/.exec(
      message,
    )
    if (lb)
      return `load balancer target group ${lb[2]?.split('/').slice(-2, -1)[0] ?? lb[2]} on port ${lb[1]}: ${lb[3]}`
    if (/failed container health checks/.test(message)) return 'its container health check failed'
  }
  return undefined
}

function labelled(failure: FailedTask, cause: FailedTask | undefined): string {
  const notes: string[] = []
  if (failure === cause) notes.push('first cause')
  if (failure.heldBy) {
    notes.push(
      `consequence: ECS started it while task ${taskId(failure.heldBy.taskArn)} (${revisionOf(failure.heldBy.taskDefinitionArn)}) still held the volume`,
    )
  }
  return notes.length > 0 ? `${failure.line} ← ${notes.join('; ')}` : failure.line
}

/**
 * Gathers why a deploy failed, leading with the first cause: the earliest failure of a task of the
 * new revision that was not itself a consequence (a replacement ECS started beside a task still
 * holding the volume, which dies "database is locked"). Then every failed task, labelled; the
 * service events since the deploy began; the log tails of the cause and a few others. Tasks the
 * drain stopped never count. Never throws: a diagnosis that fails must not hide the failure.
 */
export async function diagnose(
  clients: AwsClients,
  ref: ServiceRef,
  scope: DiagnosisScope,
): Promise<Diagnosis> {
  const diagnosis: Diagnosis = { events: [], failedTasks: [], logs: [] }
  const limitMs = Math.max(3_000, (scope.deadline ?? Infinity) - Date.now())
  const gathered = gather(clients, ref, scope, diagnosis).then(() => true)
  if (!(await withTimeLimit(gathered, limitMs, () => false)))
    diagnosis.events.push("(the diagnosis stopped at the step's timeout: this is what it had gathered)")
  // Copies: a gathering cut short may still add to the arrays after this returns.
  return {
    ...diagnosis,
    failedTasks: [...diagnosis.failedTasks],
    events: [...diagnosis.events],
    logs: [...diagnosis.logs],
  }
}

async function gather(
  clients: AwsClients,
  ref: ServiceRef,
  scope: DiagnosisScope,
  diagnosis: Diagnosis,
): Promise<void> {
  try {
    const service = await describeService(clients, ref)
    const events = eventsSince(service, scope.since)
    diagnosis.events = events.map((e) => `${e.createdAt?.toISOString().slice(11, 19)} ${e.message}`)
    const arns = await listServiceTasks(clients, ref, ['RUNNING', 'STOPPED'])
    const all = await describeTasks(clients, ref.cluster, arns)
    const failures: FailedTask[] = all
      .filter(
        (t) =>
          t.lastStatus === 'STOPPED' &&
          (time(t.stoppedAt) ?? 0) >= scope.since - 1000 &&
          !scope.stoppedOnPurpose.has(t.taskArn as string) &&
          failed(t),
      )
      .sort((a, b) => (time(a.stoppedAt) ?? 0) - (time(b.stoppedAt) ?? 0))
      .map((task) => {
        const heldBy = holderOf(task, all)
        return { task, line: describeStoppedTask(task), ...(heldBy ? { heldBy } : {}) }
      })
    const ofRevision = failures.filter((f) => f.task.taskDefinitionArn === scope.revisionArn)
    // A launch that never ran (an image pull ECS retried) explains less than a task that ran and died.
    const cause =
      ofRevision.find((f) => !f.heldBy && containersRan(f.task)) ??
      ofRevision.find((f) => !f.heldBy) ??
      ofRevision[0] ??
      failures[0]
    if (cause) {
      const check =
        failedCheckInEvents(events.map((e) => e.message ?? '').reverse(), taskId(cause.task.taskArn)) ??
        scope.tracker?.lastFailedCheck.get(cause.task.taskArn as string)
      diagnosis.firstCause = { ...cause, ...(check ? { check } : {}) }
    }
    diagnosis.failedTasks = failures.map((f) => labelled(f, cause))

    const definitions = new Map<string, ContainerDefinition[]>()
    if (cause) diagnosis.logs.push(...(await taskLogs(clients, cause.task, definitions, 'First cause')))
    for (const other of failures.filter((f) => f !== cause).slice(0, MORE_LOGS)) {
      diagnosis.logs.push(
        ...(await taskLogs(clients, other.task, definitions, other.heldBy ? 'Consequence' : 'Also failed')),
      )
    }
  } catch (error) {
    diagnosis.events.push(`(could not gather everything: ${errorMessage(error)})`)
  }
}

/** The first cause in one line, for the failure message. */
export function firstCauseLine(diagnosis: Diagnosis): string {
  const cause = diagnosis.firstCause
  if (!cause) return ''
  return `First cause: ${cause.line}${cause.check ? `; last failing health check: ${cause.check}` : ''}`
}
