import * as log from '@ecs-lockstep/core/log'
import { DescribeTaskDefinitionCommand, type Task } from '@aws-sdk/client-ecs'
import { ActionError, errorMessage, sleep } from '@ecs-lockstep/core'
import { isTransient } from '@ecs-lockstep/core/aws/errors'
import {
  createBudget,
  type ServiceClients,
  drainService,
  scaleToZero,
  describeService,
  primaryDeployment,
  type ServiceRef,
  revisionOf,
  stateNow,
  efsVolumes,
  describeStopping,
  describeTasks,
  listDeploymentTasks,
  taskId,
} from '@ecs-lockstep/ecs-deploy'

const WATCH_EVERY_MS = 1000

const stopDecidedAt = (task: Task) => (task.stoppingAt ?? task.stoppedAt ?? task.createdAt)?.getTime() ?? 0

/**
 * Watches the verified deployment's tasks while the checks run: a task that stops, or one ECS
 * starts to replace it, means the revision is not healthy, whatever the last answers said (a
 * replacement can answer 200 for a few seconds before it dies too). On a single-writer service the
 * watch cuts ECS's replacements short by scaling the service to 0: the rollback that follows
 * drains and starts the previous revision.
 */
export class TaskWatch {
  private readonly clients: ServiceClients
  private readonly ref: ServiceRef
  readonly deploymentId: string
  readonly revision: string
  private readonly tasks: Set<string>
  private readonly seenStopped = new Set<string>()
  readonly singleWriter: boolean
  private readonly stop = new AbortController()
  private loop: Promise<void> | undefined
  /** What the background watch found, or the error that ended it. */
  found: string | undefined
  failure: unknown

  /** Aborted as soon as the watch finds a problem (or fails): pass it to every wait of the step. */
  get signal(): AbortSignal {
    return this.stop.signal
  }

  private constructor(
    clients: ServiceClients,
    ref: ServiceRef,
    deployment: { id: string; revision: string },
    tasks: Task[],
    singleWriter: boolean,
    stoppedBefore: string[],
  ) {
    this.clients = clients
    this.ref = ref
    this.deploymentId = deployment.id
    this.revision = deployment.revision
    this.tasks = new Set(tasks.map((t) => t.taskArn as string))
    this.singleWriter = singleWriter
    for (const arn of stoppedBefore) this.seenStopped.add(arn)
  }

  /** The primary deployment's RUNNING tasks as they are now: what must still be there at the end. */
  static async start(
    clients: ServiceClients,
    ref: ServiceRef,
    singleWriter: 'auto' | 'true' | 'false',
  ): Promise<TaskWatch | undefined> {
    const service = await describeService(clients, ref)
    const primary = primaryDeployment(service)
    if (!primary?.id || !primary.taskDefinition) return undefined
    const [running, stopped] = await Promise.all([
      listDeploymentTasks(clients, ref, primary.id, 'RUNNING'),
      listDeploymentTasks(clients, ref, primary.id, 'STOPPED'),
    ])
    const tasks = (await describeTasks(clients, ref.cluster, running)).filter(
      (t) => t.lastStatus === 'RUNNING',
    )
    let single = singleWriter === 'true'
    if (singleWriter === 'auto') {
      const reply = await clients.ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: primary.taskDefinition }),
      )
      single = efsVolumes(reply.taskDefinition ?? {}).length > 0
    }
    log.info(
      `Watching ${tasks.length} task(s) of ${revisionOf(primary.taskDefinition)} (${tasks.map((t) => taskId(t.taskArn)).join(', ') || 'none running'}): any that stops or is replaced fails the verification.`,
    )
    return new TaskWatch(
      clients,
      ref,
      { id: primary.id, revision: primary.taskDefinition },
      tasks,
      single,
      stopped,
    )
  }

  /**
   * Watches about once a second, on its own, for the whole verification: a slow probe (a target
   * gone mid-request) or the wait for the load balancer must not delay noticing a failed task, nor
   * the scale-down that cuts ECS's replacement short.
   */
  begin(): void {
    this.loop = (async () => {
      while (!this.stop.signal.aborted) {
        try {
          this.found = await this.problem()
        } catch (error) {
          if (!isTransient((error as { cause?: unknown }).cause ?? error)) {
            this.failure = error
            return this.stop.abort()
          }
        }
        if (this.found) return this.stop.abort()
        await sleep(WATCH_EVERY_MS, this.stop.signal).catch(() => undefined)
      }
    })()
  }

  /** Stops watching; throws what the watch found (failing the step), if anything. */
  async end(deadline: number): Promise<void> {
    this.stop.abort()
    await this.loop
    if (this.failure) throw this.failure
    if (this.found) await this.fail(this.found, deadline)
  }

  /** Undefined while nothing changed; otherwise what happened, in one sentence. */
  async problem(): Promise<string | undefined> {
    // Stopped tasks first: once one has failed, every second counts.
    const stoppedArns = (
      await listDeploymentTasks(this.clients, this.ref, this.deploymentId, 'STOPPED')
    ).filter((arn) => !this.seenStopped.has(arn))
    if (stoppedArns.length > 0) {
      const stopped = await describeTasks(this.clients, this.ref.cluster, stoppedArns)
      for (const arn of stoppedArns) this.seenStopped.add(arn)
      const first = stopped.sort((a, b) => stopDecidedAt(a) - stopDecidedAt(b))[0]
      if (first) return `New ${describeStopping(first)}, while it was being verified.`
    }
    const service = await describeService(this.clients, this.ref)
    const primary = primaryDeployment(service)
    if (primary?.id !== this.deploymentId) {
      return `A new deployment of ${this.ref.service} (${revisionOf(primary?.taskDefinition)}) started while ${revisionOf(this.revision)} was being verified.`
    }
    const running = await listDeploymentTasks(this.clients, this.ref, this.deploymentId, 'RUNNING')
    const gone = [...this.tasks].filter((arn) => !running.includes(arn))
    if (gone.length > 0)
      return `Task ${gone.map(taskId).join(', ')} of ${revisionOf(this.revision)} is being stopped.`
    const added = running.filter((arn) => !this.tasks.has(arn))
    if (added.length > 0)
      return `ECS started task ${added.map(taskId).join(', ')} of ${revisionOf(this.revision)} while it was being verified: a task was replaced.`
    return undefined
  }

  /** Fails the step for `problem`; on a single-writer service, first stops it so no replacement overlaps. */
  async fail(problem: string, deadline: number): Promise<never> {
    let stopped = ''
    if (this.singleWriter) {
      try {
        log.info(`Scaling ${this.ref.service} to 0: ECS must not start replacements beside the failed task.`)
        await scaleToZero(this.clients, this.ref)
        await drainService(
          this.clients,
          this.ref,
          createBudget(Math.max(deadline, Date.now() + 30_000), new AbortController().signal),
          { scaledDown: true },
        )
        stopped = `${this.ref.service} is single-writer, so it was scaled to 0 and every task is STOPPED: ECS's replacement would have run beside the failed task.`
      } catch (error) {
        stopped = `${this.ref.service} was scaled to 0, but not every task had STOPPED yet (${errorMessage(error)}).`
      }
    }
    const { line } = await stateNow(this.clients, this.ref)
    throw new ActionError(
      [problem, `${revisionOf(this.revision)} is not recorded as verified.`, stopped, line]
        .filter(Boolean)
        .join('\n'),
      {
        hint: `Run the rollback action: it drains the service, then starts the last verified revision.`,
      },
    )
  }
}
