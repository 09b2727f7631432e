/** A task's life, status by status: PROVISIONING to RUNNING and, once asked to stop, to STOPPED. */

import { randomUUID } from 'node:crypto'
import { ecsArn, newTaskId, parseArn } from '../ids.ts'
import { LaunchError } from '../runtime/types.ts'
import { countFailure } from './circuit-breaker.ts'
import { addEvent } from './deployments.ts'
import type { SchedulerContext } from './scheduler-context.ts'
import type { ContainerRecord, StopCode, Tag, TaskDefinitionRecord, TaskRecord, TaskStatus } from './state.ts'
import { activate } from './task-launch.ts'
import { containerDefinitions, healthCheckOf } from './task-spec.ts'
import { registerTargets } from './targets.ts'

export interface NewTask {
  clusterArn: string
  region: string
  taskDefinition: TaskDefinitionRecord
  group: string
  startedBy?: string
  serviceArn?: string
  deploymentId?: string
  launchType?: string
  overrides?: Record<string, unknown>
  networkConfiguration?: unknown
  tags?: Tag[]
}

export function createTask(ctx: SchedulerContext, input: NewTask): TaskRecord {
  const now = Date.now()
  const id = newTaskId()
  const cluster = parseArn(input.clusterArn)?.resource.split('/')[1] ?? 'default'
  const arn = ecsArn(input.region, ctx.deps.accountId, `task/${cluster}/${id}`)
  const definition = input.taskDefinition.definition
  const containers: ContainerRecord[] = containerDefinitions(definition).map((def) => {
    const healthCheck = healthCheckOf(def)
    return {
      name: def.name,
      arn: ecsArn(input.region, ctx.deps.accountId, `container/${cluster}/${id}/${randomUUID()}`),
      image: def.image,
      essential: def.essential !== false,
      lastStatus: 'PENDING',
      healthStatus: 'UNKNOWN',
      networkBindings: [],
      ...(healthCheck ? { healthCheck } : {}),
    }
  })
  const crashAfterSeconds = ctx.deps.faults.config.crashAfterSeconds
  const task: TaskRecord = {
    arn,
    id,
    region: input.region,
    clusterArn: input.clusterArn,
    taskDefinitionArn: input.taskDefinition.arn,
    group: input.group,
    ...(input.startedBy ? { startedBy: input.startedBy } : {}),
    ...(input.serviceArn ? { serviceArn: input.serviceArn } : {}),
    ...(input.deploymentId ? { deploymentId: input.deploymentId } : {}),
    launchType: input.launchType ?? 'FARGATE',
    ...(typeof definition.cpu === 'string' ? { cpu: definition.cpu } : {}),
    ...(typeof definition.memory === 'string' ? { memory: definition.memory } : {}),
    overrides: input.overrides ?? { containerOverrides: [], inferenceAcceleratorOverrides: [] },
    ...(input.networkConfiguration ? { networkConfiguration: input.networkConfiguration } : {}),
    privateIp: freePrivateIp(ctx),
    lastStatus: 'PROVISIONING',
    desiredStatus: 'RUNNING',
    healthStatus: 'UNKNOWN',
    createdAt: now,
    statusSince: now,
    containers,
    targets: [],
    ...(crashAfterSeconds !== undefined ? { crashAfterMs: crashAfterSeconds * 1000 } : {}),
    version: 1,
    history: [{ status: 'PROVISIONING', at: now }],
  }
  ctx.state.tasks[arn] = task
  if (input.tags?.length) ctx.state.tags[arn] = input.tags
  ctx.deps.store.changed()
  ctx.kick()
  return task
}

function freePrivateIp(ctx: SchedulerContext): string {
  const used = new Set(
    Object.values(ctx.state.tasks)
      .filter((t) => t.lastStatus !== 'STOPPED')
      .map((t) => t.privateIp),
  )
  for (;;) {
    const ip = `10.0.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`
    if (!used.has(ip)) return ip
  }
}

/** Sets desiredStatus STOPPED; the lifecycle takes the task down from there. */
export function requestStop(
  ctx: SchedulerContext,
  task: TaskRecord,
  reason: string,
  stopCode: StopCode,
  options: { failure?: boolean; announce?: boolean } = {},
): void {
  if (task.desiredStatus === 'STOPPED' || task.lastStatus === 'STOPPED') return
  task.desiredStatus = 'STOPPED'
  task.stoppingAt = Date.now()
  task.stoppedReason ??= reason
  task.stopCode ??= stopCode
  if (options.announce && task.lastStatus === 'RUNNING') task.announceStop = true
  if (options.failure) countFailure(ctx, task)
  ctx.deps.store.changed()
  ctx.kick()
}

export function setStatus(task: TaskRecord, status: TaskStatus, now: number): void {
  task.lastStatus = status
  task.statusSince = now
  task.version += 1
  task.history.push({ status, at: now })
}

export function advance(ctx: SchedulerContext, task: TaskRecord, now: number): void {
  for (let moves = 0; moves < 10 && task.lastStatus !== 'STOPPED'; moves += 1) {
    const before = task.lastStatus
    move(ctx, task, now)
    if (task.lastStatus === before) return
  }
}

/** True once `ms` have passed in the current status; otherwise asks to be woken then. */
function after(ctx: SchedulerContext, task: TaskRecord, ms: number, now: number): boolean {
  if (now - task.statusSince >= ms) return true
  ctx.wakeAt(task.statusSince + ms)
  return false
}

function move(ctx: SchedulerContext, task: TaskRecord, now: number): void {
  const stopping = task.desiredStatus === 'STOPPED'
  switch (task.lastStatus) {
    case 'PROVISIONING':
      if (stopping) setStatus(task, 'STOPPING', now)
      else if (after(ctx, task, ctx.timings.provisioningMs, now)) setStatus(task, 'PENDING', now)
      return
    case 'PENDING':
      if (stopping) setStatus(task, 'STOPPING', now)
      else if (after(ctx, task, ctx.timings.pendingMs, now)) {
        setStatus(task, 'ACTIVATING', now)
        activate(ctx, task)
      }
      return
    case 'ACTIVATING': {
      const op = ctx.starting.get(task.arn)
      if (op && !op.settled) return
      if (!op || op.error) {
        failLaunch(
          ctx,
          task,
          op?.error ?? new LaunchError('ecs-local lost track of this task while it was starting'),
        )
      }
      if (task.desiredStatus === 'STOPPED') {
        // Never RUNNING and no targets (a failed launch): straight to STOPPING.
        if (task.targets.length > 0) leaveRunning(ctx, task, now)
        else setStatus(task, 'STOPPING', now)
        return
      }
      if (op && !op.targetsRegistered) {
        op.targetsRegistered = true
        registerTargets(ctx, task)
      }
      if (after(ctx, task, ctx.timings.activatingMs, now)) {
        setStatus(task, 'RUNNING', now)
        task.startedAt = now
        task.connectivityAt ??= now
        if (task.crashAfterMs !== undefined) task.crashAt = now + task.crashAfterMs
      }
      return
    }
    case 'RUNNING':
      if (stopping) leaveRunning(ctx, task, now)
      else if (task.crashAt !== undefined) {
        if (now < task.crashAt) return ctx.wakeAt(task.crashAt)
        delete task.crashAt
        void ctx.runtime.crash(task.arn)
      }
      return
    case 'DEACTIVATING': {
      // Over when every target has finished draining: early once its connections are gone.
      const elb = ctx.deps.elb
      const draining = (task.drainingTargets ?? []).some((t) =>
        elb.isDraining(t.targetGroupArn, t.id, t.port),
      )
      if (!draining || now >= (task.deactivateUntil ?? 0)) {
        delete task.drainingTargets
        setStatus(task, 'STOPPING', now)
      } else ctx.wakeAt(task.deactivateUntil ?? now)
      return
    }
    case 'STOPPING': {
      const op = ctx.stopping.get(task.arn) ?? beginStop(ctx, task)
      if (op.settled && after(ctx, task, ctx.timings.stoppingMs, now)) setStatus(task, 'DEPROVISIONING', now)
      return
    }
    case 'DEPROVISIONING':
      if (after(ctx, task, ctx.timings.deprovisioningMs, now)) finish(ctx, task, now)
      return
  }
}

function failLaunch(ctx: SchedulerContext, task: TaskRecord, error: LaunchError): void {
  for (const c of task.containers) {
    if (c.lastStatus !== 'STOPPED' && (!error.containerName || error.containerName === c.name))
      c.reason ??= error.message
  }
  requestStop(ctx, task, error.message, 'TaskFailedToStart', { failure: true })
}

/**
 * From RUNNING (or ACTIVATING) through DEACTIVATING: it lasts until each target has drained (no
 * connection left, or its group's deregistration delay over), no time at all without targets.
 */
function leaveRunning(ctx: SchedulerContext, task: TaskRecord, now: number): void {
  const service = task.serviceArn ? ctx.state.services[task.serviceArn] : undefined
  let delay = 0
  for (const target of task.targets) {
    ctx.deps.elb.deregisterTarget(target.targetGroupArn, target.id, target.port)
    delay = Math.max(delay, ctx.deps.elb.deregistrationDelayMs(target.targetGroupArn))
    if (service) addEvent(service, `deregistered 1 targets in (target-group ${target.targetGroupArn})`, now)
  }
  if (service && task.targets.length > 0) addEvent(service, 'has begun draining connections on 1 tasks.', now)
  task.drainingTargets = task.targets
  task.targets = []
  task.deactivateUntil = now + delay
  setStatus(task, 'DEACTIVATING', now)
}

function beginStop(ctx: SchedulerContext, task: TaskRecord): { settled: boolean } {
  const op = { settled: false }
  ctx.stopping.set(task.arn, op)
  if (task.announceStop && task.serviceArn) {
    delete task.announceStop
    const list = ctx.stoppedByScheduler.get(task.serviceArn) ?? []
    list.push(task.id)
    ctx.stoppedByScheduler.set(task.serviceArn, list)
  }
  const stop = () =>
    ctx.runtime
      .stop(task.arn)
      .catch((error: unknown) => console.error(`ecs-local could not stop ${task.arn}:`, error))
      .finally(() => {
        op.settled = true
        if (task.containers.some((c) => c.runtimeId)) task.executionStoppedAt ??= Date.now()
        ctx.deps.monitor.end(task.arn)
        ctx.kick()
      })
  // A slow shutdown (fault): the containers stay up, holding their files, before SIGTERM.
  const slowMs = (ctx.deps.faults.config.slowStopSeconds ?? 0) * 1000
  if (slowMs > 0) setTimeout(() => void stop(), slowMs).unref()
  else void stop()
  return op
}

function finish(ctx: SchedulerContext, task: TaskRecord, now: number): void {
  setStatus(task, 'STOPPED', now)
  task.stoppedAt = now
  task.desiredStatus = 'STOPPED'
  for (const c of task.containers) c.lastStatus = 'STOPPED'
  ctx.starting.delete(task.arn)
  ctx.stopping.delete(task.arn)
  ctx.built.delete(task.arn)
  ctx.created.delete(task.arn)
  const removal = ctx.runtime.remove(task.arn).catch(() => undefined)
  ctx.removals.add(removal)
  void removal.finally(() => ctx.removals.delete(removal))
}
