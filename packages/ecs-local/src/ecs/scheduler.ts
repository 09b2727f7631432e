/** ecs-local's ECS scheduler: the tick loop and the public API; the modules it imports do the work. */

import type { RuntimeEvents, TaskRuntime } from '../runtime/types.ts'
import { MIN_TICK_MS } from '../timings.ts'
import * as events from './container-events.ts'
import { checkContainers } from './health.ts'
import { flushTaskEvents, reconcile } from './reconcile.ts'
import { restoreTasks, shutdownTasks } from './restart-and-shutdown.ts'
import { SchedulerContext, type SchedulerOptions } from './scheduler-context.ts'
import { evaluate } from './service-status.ts'
import type { StopCode, TaskRecord } from './state.ts'
import * as lifecycle from './task-lifecycle.ts'

export type { SchedulerOptions } from './scheduler-context.ts'
export type { NewTask } from './task-lifecycle.ts'
export { taskHealth } from './health.ts'

/**
 * ECS's control plane in one loop: walks every task through its lifecycle, keeps each service's
 * deployments at their desired count within minimumHealthyPercent / maximumPercent, registers and
 * drains load balancer targets, runs container health checks, trips the circuit breaker, and
 * writes the service events. It ticks every `tickMs` and at once after any API call or runtime
 * event, so with zero timings a whole deployment takes milliseconds.
 */
export class Scheduler implements RuntimeEvents {
  private readonly ctx: SchedulerContext
  private timer: NodeJS.Timeout | undefined
  private kicked = false
  private wakeTimer: NodeJS.Timeout | undefined
  private wakeTime = Infinity
  private ticking = false
  private again = false

  constructor(options: SchedulerOptions) {
    this.ctx = new SchedulerContext(options, this)
  }

  get runtime(): TaskRuntime {
    return this.ctx.runtime
  }

  set runtime(runtime: TaskRuntime) {
    this.ctx.runtime = runtime
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), Math.max(this.ctx.timings.tickMs, MIN_TICK_MS))
    this.timer.unref()
    this.kick()
  }

  /** Runs a tick as soon as the event loop is free; calls in between are merged. */
  kick(): void {
    if (this.kicked || this.ctx.closed) return
    this.kicked = true
    setImmediate(() => {
      this.kicked = false
      this.tick()
    })
  }

  /** Ticks again when a timed transition is due, so short timings are kept to the millisecond. */
  wakeAt(at: number): void {
    if (this.ctx.closed || at >= this.wakeTime) return
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    this.wakeTime = at
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTime = Infinity
        this.wakeTimer = undefined
        this.tick()
      },
      Math.max(0, at - Date.now()),
    )
    this.wakeTimer.unref()
  }

  tick(): void {
    if (this.ctx.closed) return
    if (this.ticking) {
      this.again = true
      return
    }
    this.ticking = true
    try {
      let rounds = 0
      do {
        this.again = false
        this.step(Date.now())
        rounds += 1
      } while (this.again && rounds < 10)
    } catch (error) {
      console.error('ecs-local scheduler tick failed:', error)
    } finally {
      this.ticking = false
    }
  }

  private step(now: number): void {
    const ctx = this.ctx
    for (const task of Object.values(ctx.state.tasks)) lifecycle.advance(ctx, task, now)
    for (const service of Object.values(ctx.state.services)) reconcile(ctx, service, now)
    // Tasks the services just started may move on at once (zero timings).
    for (const task of Object.values(ctx.state.tasks)) lifecycle.advance(ctx, task, now)
    flushTaskEvents(ctx, now)
    for (const service of Object.values(ctx.state.services)) evaluate(ctx, service, now)
    ctx.deps.elb.tick(now)
    checkContainers(ctx, now)
    this.purge(now)
    ctx.deps.store.changed()
  }

  private purge(now: number): void {
    const { state, timings } = this.ctx
    for (const task of Object.values(state.tasks)) {
      if (task.lastStatus === 'STOPPED' && now - (task.stoppedAt ?? now) > timings.stoppedTaskRetentionMs) {
        Reflect.deleteProperty(state.tasks, task.arn)
        Reflect.deleteProperty(state.tags, task.arn)
      }
    }
    for (const service of Object.values(state.services)) {
      if (
        service.status === 'INACTIVE' &&
        now - (service.deletedAt ?? now) > timings.inactiveServiceRetentionMs
      ) {
        Reflect.deleteProperty(state.services, service.arn)
      }
    }
  }

  // ---- tasks ----

  createTask(input: lifecycle.NewTask): TaskRecord {
    return lifecycle.createTask(this.ctx, input)
  }

  /** Sets desiredStatus STOPPED; the lifecycle takes the task down from there. */
  requestStop(
    task: TaskRecord,
    reason: string,
    stopCode: StopCode,
    options: { failure?: boolean; announce?: boolean } = {},
  ): void {
    lifecycle.requestStop(this.ctx, task, reason, stopCode, options)
  }

  // ---- runtime events ----

  pullStarted(taskArn: string): void {
    events.pullStarted(this.ctx, taskArn)
  }

  pullStopped(taskArn: string): void {
    events.pullStopped(this.ctx, taskArn)
  }

  containerCreated(taskArn: string, containerName: string): void {
    events.containerCreated(this.ctx, taskArn, containerName)
  }

  containerStarted(taskArn: string, containerName: string): void {
    events.containerStarted(this.ctx, taskArn, containerName)
  }

  containerExited(
    taskArn: string,
    containerName: string,
    exitCode: number | undefined,
    reason?: string,
  ): void {
    events.containerExited(this.ctx, taskArn, containerName, exitCode, reason)
  }

  log(
    destination: { region: string; group: string; stream: string },
    message: string,
    timestamp: number,
  ): void {
    events.log(this.ctx, destination, message, timestamp)
  }

  // ---- restart and shutdown ----

  /** After a restart: adopts the tasks whose containers still run, marks the others STOPPED. */
  restore(): Promise<void> {
    return restoreTasks(this.ctx)
  }

  /** Clean shutdown: every container is removed; tasks that were alive are STOPPED, saying why. */
  async shutdown(): Promise<void> {
    this.ctx.closed = true
    if (this.timer) clearInterval(this.timer)
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    await shutdownTasks(this.ctx)
  }
}
