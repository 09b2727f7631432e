import { randomUUID } from 'node:crypto'
import type { LoadBalancing } from '../elb/balancer.ts'
import type { Faults } from '../faults.ts'
import { ecsArn, newTaskId, parseArn } from '../ids.ts'
import type { LogStore } from '../logs/store.ts'
import type { InvariantMonitor } from '../monitor.ts'
import {
  LaunchError,
  type RuntimeEvents,
  type StartedContainer,
  type TaskRuntime,
  type TaskSpec,
} from '../runtime/types.ts'
import { imageNotFound } from '../runtime/images.ts'
import type { Store } from '../state.ts'
import { awsSeconds, MIN_TICK_MS, type Timings } from '../timings.ts'
import { addEvent, failureThreshold, startDeployment } from './deployments.ts'
import {
  isLive,
  type ContainerRecord,
  type DeploymentRecord,
  type EcsState,
  type HealthStatus,
  type ServiceRecord,
  type StopCode,
  type Tag,
  type TaskDefinitionRecord,
  type TaskRecord,
  type TaskStatus,
} from './state.ts'
import { buildTaskSpec, containerDefinitions, healthCheckOf, type BuiltTask } from './task-spec.ts'

export interface SchedulerOptions {
  store: Store<{ ecs: EcsState }>
  elb: LoadBalancing
  logs: LogStore
  monitor: InvariantMonitor
  faults: Faults
  timings: Timings
  workDir: string
  accountId: string
  secrets: () => Record<string, string>
}

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

interface StartOperation {
  settled: boolean
  error?: LaunchError
  containers?: StartedContainer[]
  targetsRegistered: boolean
}

/** Tasks past this point hold no load balancer target and count as drained for their deployment. */
const DRAINED: readonly TaskStatus[] = ['STOPPING', 'DEPROVISIONING', 'STOPPED']

/**
 * ECS's control plane in one loop: walks every task through its lifecycle, keeps each service's
 * deployments at their desired count within minimumHealthyPercent / maximumPercent, registers and
 * drains load balancer targets, runs container health checks, trips the circuit breaker, and
 * writes the service events. It ticks every `tickMs` and at once after any API call or runtime
 * event, so with zero timings a whole deployment takes milliseconds.
 */
export class Scheduler implements RuntimeEvents {
  runtime!: TaskRuntime
  private readonly deps: SchedulerOptions
  private timer: NodeJS.Timeout | undefined
  private kicked = false
  private wakeTimer: NodeJS.Timeout | undefined
  private wakeTime = Infinity
  private ticking = false
  private again = false
  private closed = false
  private readonly starting = new Map<string, StartOperation>()
  private readonly stopping = new Map<string, { settled: boolean }>()
  private readonly built = new Map<string, BuiltTask>()
  /** Containers the runtime has created, per task: the task's life on its volumes ends when all have exited. */
  private readonly created = new Map<string, Set<string>>()
  private readonly checking = new Set<string>()
  /** Containers of STOPPED tasks being removed: shutdown waits for them. */
  private readonly removals = new Set<Promise<unknown>>()
  /** "has started / has stopped N tasks" events are gathered per tick, as ECS words them. */
  private readonly started = new Map<string, string[]>()
  private readonly stoppedByScheduler = new Map<string, string[]>()

  constructor(options: SchedulerOptions) {
    this.deps = options
  }

  private get state(): EcsState {
    return this.deps.store.data.ecs
  }

  private get timings(): Timings {
    return this.deps.timings
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), Math.max(this.timings.tickMs, MIN_TICK_MS))
    this.timer.unref()
    this.kick()
  }

  /** Runs a tick as soon as the event loop is free; calls in between are merged. */
  kick(): void {
    if (this.kicked || this.closed) return
    this.kicked = true
    setImmediate(() => {
      this.kicked = false
      this.tick()
    })
  }

  /** Ticks again when a timed transition is due, so short timings are kept to the millisecond. */
  wakeAt(at: number): void {
    if (this.closed || at >= this.wakeTime) return
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
    if (this.closed) return
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
    for (const task of Object.values(this.state.tasks)) this.advance(task, now)
    for (const service of Object.values(this.state.services)) this.reconcile(service, now)
    // Tasks the services just started may move on at once (zero timings).
    for (const task of Object.values(this.state.tasks)) this.advance(task, now)
    this.flushTaskEvents(now)
    for (const service of Object.values(this.state.services)) this.evaluate(service, now)
    this.deps.elb.tick(now)
    this.checkContainers(now)
    this.purge(now)
    this.deps.store.changed()
  }

  // ---- task lifecycle ----

  createTask(input: NewTask): TaskRecord {
    const now = Date.now()
    const id = newTaskId()
    const cluster = parseArn(input.clusterArn)?.resource.split('/')[1] ?? 'default'
    const arn = ecsArn(input.region, this.deps.accountId, `task/${cluster}/${id}`)
    const definition = input.taskDefinition.definition
    const containers: ContainerRecord[] = containerDefinitions(definition).map((def) => {
      const healthCheck = healthCheckOf(def)
      return {
        name: def.name,
        arn: ecsArn(input.region, this.deps.accountId, `container/${cluster}/${id}/${randomUUID()}`),
        image: def.image,
        essential: def.essential !== false,
        lastStatus: 'PENDING',
        healthStatus: 'UNKNOWN',
        networkBindings: [],
        ...(healthCheck ? { healthCheck } : {}),
      }
    })
    const crashAfterSeconds = this.deps.faults.config.crashAfterSeconds
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
      privateIp: this.freePrivateIp(),
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
    this.state.tasks[arn] = task
    if (input.tags?.length) this.state.tags[arn] = input.tags
    this.deps.store.changed()
    this.kick()
    return task
  }

  private freePrivateIp(): string {
    const used = new Set(
      Object.values(this.state.tasks)
        .filter((t) => t.lastStatus !== 'STOPPED')
        .map((t) => t.privateIp),
    )
    for (;;) {
      const ip = `10.0.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`
      if (!used.has(ip)) return ip
    }
  }

  /** Sets desiredStatus STOPPED; the lifecycle takes the task down from there. */
  requestStop(
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
    if (options.failure) this.countFailure(task)
    this.deps.store.changed()
    this.kick()
  }

  private setStatus(task: TaskRecord, status: TaskStatus, now: number): void {
    task.lastStatus = status
    task.statusSince = now
    task.version += 1
    task.history.push({ status, at: now })
  }

  private advance(task: TaskRecord, now: number): void {
    for (let moves = 0; moves < 10 && task.lastStatus !== 'STOPPED'; moves += 1) {
      const before = task.lastStatus
      this.move(task, now)
      if (task.lastStatus === before) return
    }
  }

  /** True once `ms` have passed in the current status; otherwise asks to be woken then. */
  private after(task: TaskRecord, ms: number, now: number): boolean {
    if (now - task.statusSince >= ms) return true
    this.wakeAt(task.statusSince + ms)
    return false
  }

  private move(task: TaskRecord, now: number): void {
    const stopping = task.desiredStatus === 'STOPPED'
    switch (task.lastStatus) {
      case 'PROVISIONING':
        if (stopping) this.setStatus(task, 'STOPPING', now)
        else if (this.after(task, this.timings.provisioningMs, now)) this.setStatus(task, 'PENDING', now)
        return
      case 'PENDING':
        if (stopping) this.setStatus(task, 'STOPPING', now)
        else if (this.after(task, this.timings.pendingMs, now)) {
          this.setStatus(task, 'ACTIVATING', now)
          this.activate(task)
        }
        return
      case 'ACTIVATING': {
        const op = this.starting.get(task.arn)
        if (op && !op.settled) return
        if (!op || op.error) {
          this.failLaunch(
            task,
            op?.error ?? new LaunchError('ecs-local lost track of this task while it was starting'),
          )
        }
        if (task.desiredStatus === 'STOPPED') {
          // Never RUNNING and no targets (a failed launch): straight to STOPPING.
          if (task.targets.length > 0) this.leaveRunning(task, now)
          else this.setStatus(task, 'STOPPING', now)
          return
        }
        if (op && !op.targetsRegistered) {
          op.targetsRegistered = true
          this.registerTargets(task)
        }
        if (this.after(task, this.timings.activatingMs, now)) {
          this.setStatus(task, 'RUNNING', now)
          task.startedAt = now
          task.connectivityAt ??= now
          if (task.crashAfterMs !== undefined) task.crashAt = now + task.crashAfterMs
        }
        return
      }
      case 'RUNNING':
        if (stopping) this.leaveRunning(task, now)
        else if (task.crashAt !== undefined) {
          if (now < task.crashAt) return this.wakeAt(task.crashAt)
          delete task.crashAt
          void this.runtime.crash(task.arn)
        }
        return
      case 'DEACTIVATING': {
        // Over when every target has finished draining: early once its connections are gone.
        const elb = this.deps.elb
        const draining = (task.drainingTargets ?? []).some((t) =>
          elb.isDraining(t.targetGroupArn, t.id, t.port),
        )
        if (!draining || now >= (task.deactivateUntil ?? 0)) {
          delete task.drainingTargets
          this.setStatus(task, 'STOPPING', now)
        } else this.wakeAt(task.deactivateUntil ?? now)
        return
      }
      case 'STOPPING': {
        const op = this.stopping.get(task.arn) ?? this.beginStop(task)
        if (op.settled && this.after(task, this.timings.stoppingMs, now))
          this.setStatus(task, 'DEPROVISIONING', now)
        return
      }
      case 'DEPROVISIONING':
        if (this.after(task, this.timings.deprovisioningMs, now)) this.finish(task, now)
        return
    }
  }

  /** Faults first (so both runtimes fail alike), then the task's spec, then the runtime. */
  private activate(task: TaskRecord): void {
    const op: StartOperation = { settled: false, targetsRegistered: false }
    this.starting.set(task.arn, op)
    const definition = this.state.taskDefinitions[task.taskDefinitionArn]
    try {
      if (!definition) throw new LaunchError('ecs-local no longer has this task definition')
      const faults = this.deps.faults
      const missing = task.containers.find((c) =>
        faults.config.missingImages?.some((m) => c.image.includes(m)),
      )
      const failing = missing ?? (faults.takeLaunchFailure() ? task.containers[0] : undefined)
      if (failing) {
        task.pullStartedAt = task.pullStoppedAt = Date.now()
        throw new LaunchError(imageNotFound(failing.image).message, failing.name)
      }
      const built = buildTaskSpec(task, definition.definition, definition.family, definition.revision, {
        workDir: this.deps.workDir,
        secrets: this.deps.secrets(),
        timings: this.timings,
      })
      this.ensureLogGroups(built)
      this.built.set(task.arn, built)
      this.runtime
        .start(built.spec)
        .then(
          (containers) => {
            op.containers = containers
            for (const started of containers) {
              const record = task.containers.find((c) => c.name === started.name)
              if (!record) continue
              record.runtimeId = started.runtimeId
              record.networkBindings = started.networkBindings
              if (started.imageDigest) record.imageDigest = started.imageDigest
            }
          },
          (error: unknown) => {
            op.error =
              error instanceof LaunchError
                ? error
                : new LaunchError(`CannotStartContainerError: ${(error as Error).message}`)
          },
        )
        .finally(() => {
          op.settled = true
          // Containers that died while the others were still starting.
          if (task.containers.some((c) => c.lastStatus === 'STOPPED')) this.endLifeIfAllExited(task)
          this.kick()
        })
    } catch (error) {
      op.settled = true
      op.error = error instanceof LaunchError ? error : new LaunchError(String((error as Error).message))
    }
  }

  /** awslogs needs its group, unless awslogs-create-group is "true", as on Fargate. */
  private ensureLogGroups(built: BuiltTask): void {
    for (const { region, group, create } of built.logGroups) {
      if (this.deps.logs.group(region, group)) continue
      if (create) {
        this.deps.logs.createGroup(region, group)
        continue
      }
      throw new LaunchError(
        'ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. : exit status 1',
      )
    }
  }

  private failLaunch(task: TaskRecord, error: LaunchError): void {
    for (const c of task.containers) {
      if (c.lastStatus !== 'STOPPED' && (!error.containerName || error.containerName === c.name))
        c.reason ??= error.message
    }
    this.requestStop(task, error.message, 'TaskFailedToStart', { failure: true })
  }

  /**
   * From RUNNING (or ACTIVATING) through DEACTIVATING: it lasts until each target has drained (no
   * connection left, or its group's deregistration delay over), no time at all without targets.
   */
  private leaveRunning(task: TaskRecord, now: number): void {
    const service = task.serviceArn ? this.state.services[task.serviceArn] : undefined
    let delay = 0
    for (const target of task.targets) {
      this.deps.elb.deregisterTarget(target.targetGroupArn, target.id, target.port)
      delay = Math.max(delay, this.deps.elb.deregistrationDelayMs(target.targetGroupArn))
      if (service) addEvent(service, `deregistered 1 targets in (target-group ${target.targetGroupArn})`, now)
    }
    if (service && task.targets.length > 0)
      addEvent(service, 'has begun draining connections on 1 tasks.', now)
    task.drainingTargets = task.targets
    task.targets = []
    task.deactivateUntil = now + delay
    this.setStatus(task, 'DEACTIVATING', now)
  }

  private beginStop(task: TaskRecord): { settled: boolean } {
    const op = { settled: false }
    this.stopping.set(task.arn, op)
    if (task.announceStop && task.serviceArn) {
      delete task.announceStop
      const list = this.stoppedByScheduler.get(task.serviceArn) ?? []
      list.push(task.id)
      this.stoppedByScheduler.set(task.serviceArn, list)
    }
    const stop = () =>
      this.runtime
        .stop(task.arn)
        .catch((error: unknown) => console.error(`ecs-local could not stop ${task.arn}:`, error))
        .finally(() => {
          op.settled = true
          if (task.containers.some((c) => c.runtimeId)) task.executionStoppedAt ??= Date.now()
          this.deps.monitor.end(task.arn)
          this.kick()
        })
    // A slow shutdown (fault): the containers stay up, holding their files, before SIGTERM.
    const slowMs = (this.deps.faults.config.slowStopSeconds ?? 0) * 1000
    if (slowMs > 0) setTimeout(() => void stop(), slowMs).unref()
    else void stop()
    return op
  }

  private finish(task: TaskRecord, now: number): void {
    this.setStatus(task, 'STOPPED', now)
    task.stoppedAt = now
    task.desiredStatus = 'STOPPED'
    for (const c of task.containers) c.lastStatus = 'STOPPED'
    this.starting.delete(task.arn)
    this.stopping.delete(task.arn)
    this.built.delete(task.arn)
    this.created.delete(task.arn)
    const removal = this.runtime.remove(task.arn).catch(() => undefined)
    this.removals.add(removal)
    void removal.finally(() => this.removals.delete(removal))
  }

  // ---- runtime events ----

  private taskOf(taskArn: string): TaskRecord | undefined {
    return this.closed ? undefined : this.state.tasks[taskArn]
  }

  pullStarted(taskArn: string): void {
    const task = this.taskOf(taskArn)
    if (task) task.pullStartedAt = Date.now()
  }

  pullStopped(taskArn: string): void {
    const task = this.taskOf(taskArn)
    if (task) task.pullStoppedAt = Date.now()
  }

  containerCreated(taskArn: string, containerName: string): void {
    const task = this.taskOf(taskArn)
    if (!task) return
    const created = this.created.get(taskArn) ?? new Set<string>()
    created.add(containerName)
    this.created.set(taskArn, created)
    const service = task.serviceArn ? this.state.services[task.serviceArn] : undefined
    this.deps.monitor.begin({
      taskArn,
      taskId: task.id,
      cluster: parseArn(task.clusterArn)?.resource.split('/')[1] ?? '',
      ...(service ? { service: service.name } : {}),
      group: task.group,
      taskDefinitionArn: task.taskDefinitionArn,
      volumes: this.built.get(taskArn)?.volumes ?? [],
    })
  }

  containerStarted(taskArn: string, containerName: string): void {
    const container = this.taskOf(taskArn)?.containers.find((c) => c.name === containerName)
    if (!container || container.lastStatus !== 'PENDING') return
    const now = Date.now()
    container.lastStatus = 'RUNNING'
    container.startedAt = now
    // Docker runs the first health check one interval after the container starts.
    if (container.healthCheck) {
      container.health = {
        failures: 0,
        nextCheckAt:
          now + Math.max(awsSeconds(this.timings, container.healthCheck.intervalSeconds), MIN_TICK_MS),
      }
    }
    this.deps.store.changed()
    this.kick()
  }

  containerExited(
    taskArn: string,
    containerName: string,
    exitCode: number | undefined,
    reason?: string,
  ): void {
    const task = this.taskOf(taskArn)
    const container = task?.containers.find((c) => c.name === containerName)
    if (!task || !container) return
    container.lastStatus = 'STOPPED'
    if (exitCode !== undefined) container.exitCode = exitCode
    if (reason) container.reason ??= reason
    if (container.essential && task.desiredStatus === 'RUNNING') {
      this.requestStop(task, 'Essential container in task exited', 'EssentialContainerExited', {
        failure: true,
      })
    }
    this.endLifeIfAllExited(task)
    this.deps.store.changed()
    this.kick()
  }

  /** Once the start has settled, every created container has exited: the volumes are free. */
  private endLifeIfAllExited(task: TaskRecord): void {
    if (this.starting.get(task.arn)?.settled === false) return
    const created = this.created.get(task.arn) ?? new Set<string>()
    if (task.containers.every((c) => !created.has(c.name) || c.lastStatus === 'STOPPED')) {
      this.deps.monitor.end(task.arn)
    }
  }

  log(
    destination: { region: string; group: string; stream: string },
    message: string,
    timestamp: number,
  ): void {
    this.deps.logs.write(destination.region, destination.group, destination.stream, message, timestamp)
  }

  // ---- health ----

  private checkContainers(now: number): void {
    for (const task of Object.values(this.state.tasks)) {
      if (task.lastStatus === 'STOPPED') continue
      for (const container of task.containers) {
        const hc = container.healthCheck
        const health = container.health
        if (!hc || !health || container.lastStatus !== 'RUNNING') continue
        if (now < health.nextCheckAt) {
          this.wakeAt(health.nextCheckAt)
          continue
        }
        const key = `${task.arn}|${container.name}`
        if (this.checking.has(key)) continue
        this.checking.add(key)
        const timeoutMs = awsSeconds(this.timings, hc.timeoutSeconds)
        void this.runtime
          .healthCheck(task.arn, container.name, hc.command, timeoutMs)
          .catch(() => false)
          .then((ok) => {
            this.checking.delete(key)
            if (this.closed || container.lastStatus !== 'RUNNING') return
            const at = Date.now()
            const inStartPeriod =
              at - (container.startedAt ?? at) < awsSeconds(this.timings, hc.startPeriodSeconds)
            if (ok) {
              container.healthStatus = 'HEALTHY'
              health.failures = 0
            } else if (!inStartPeriod) {
              // Failures in the start period do not count; a success there still makes it healthy.
              health.failures += 1
              if (health.failures >= hc.retries) container.healthStatus = 'UNHEALTHY'
            }
            health.nextCheckAt = at + Math.max(awsSeconds(this.timings, hc.intervalSeconds), MIN_TICK_MS)
            task.healthStatus = taskHealth(task.containers)
            this.deps.store.changed()
            this.kick()
          })
      }
    }
  }

  /** Healthy as the service scheduler sees it: container checks, load balancer targets, or 40 s of RUNNING. */
  private isHealthy(task: TaskRecord, now: number): boolean {
    if (task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING') return false
    const essential = task.containers.filter((c) => c.essential && c.healthCheck)
    const checked = essential.length > 0 ? essential : task.containers.filter((c) => c.healthCheck)
    if (checked.some((c) => c.healthStatus !== 'HEALTHY')) return false
    if (task.targets.length > 0) {
      return task.targets.every(
        (t) => this.deps.elb.findTarget(t.targetGroupArn, t.id, t.port)?.state === 'healthy',
      )
    }
    if (checked.length > 0) return true
    const healthyFrom = (task.startedAt ?? now) + this.timings.healthyWithoutChecksMs
    if (now >= healthyFrom) return true
    this.wakeAt(healthyFrom)
    return false
  }

  /** Why a RUNNING service task must be replaced, once its grace period is over. */
  private unhealthyReason(
    service: ServiceRecord,
    task: TaskRecord,
    now: number,
  ): { reason: string; event: string } | undefined {
    const graceEnds =
      (task.startedAt ?? now) + awsSeconds(this.timings, service.healthCheckGracePeriodSeconds ?? 0)
    if (now < graceEnds) {
      this.wakeAt(graceEnds)
      return undefined
    }
    if (task.healthStatus === 'UNHEALTHY') {
      return {
        reason: 'Task failed container health checks',
        event: `(task ${task.id}) failed container health checks.`,
      }
    }
    for (const t of task.targets) {
      const target = this.deps.elb.findTarget(t.targetGroupArn, t.id, t.port)
      if (target?.state === 'unhealthy') {
        return {
          reason: `Task failed ELB health checks in (target-group ${t.targetGroupArn})`,
          event: `(task ${task.id}) (port ${t.port}) is unhealthy in (target-group ${t.targetGroupArn}) due to (reason ${target.description ?? 'Health checks failed'}).`,
        }
      }
    }
    return undefined
  }

  // ---- services ----

  private tasksOfService(service: ServiceRecord): TaskRecord[] {
    return Object.values(this.state.tasks).filter(
      (t) => t.serviceArn === service.arn && t.lastStatus !== 'STOPPED',
    )
  }

  private stopServiceTask(task: TaskRecord, reason: string, failure = false): void {
    this.requestStop(task, reason, 'ServiceSchedulerInitiated', { failure, announce: true })
  }

  private reconcile(service: ServiceRecord, now: number): void {
    if (service.status === 'INACTIVE') return
    const primary = service.deployments[0]
    if (!primary) return
    const desired = service.desiredCount
    const scaling = `Scaling activity initiated by (deployment ${primary.id})`
    const live = () => this.tasksOfService(service).filter(isLive)
    if (service.status === 'DRAINING') {
      for (const task of live()) this.stopServiceTask(task, scaling)
      return
    }

    for (const task of live()) {
      if (task.lastStatus !== 'RUNNING') continue
      const unhealthy = this.unhealthyReason(service, task, now)
      if (unhealthy) {
        addEvent(service, unhealthy.event, now)
        this.stopServiceTask(task, unhealthy.reason, true)
      }
    }

    // Scale in: tasks not yet running go first, then the newest.
    const ofPrimary = live().filter((t) => t.deploymentId === primary.id)
    if (ofPrimary.length > desired) {
      ofPrimary
        .sort(
          (a, b) =>
            Number(a.lastStatus === 'RUNNING') - Number(b.lastStatus === 'RUNNING') ||
            b.createdAt - a.createdAt,
        )
        .slice(0, ofPrimary.length - desired)
        .forEach((t) => this.stopServiceTask(t, scaling))
    }

    // A FAILED deployment (circuit breaker without rollback) launches nothing and replaces nothing.
    if (primary.rolloutState === 'FAILED') return
    const { maximumPercent, minimumHealthyPercent } = service.deploymentConfiguration
    const maxTasks = Math.floor((desired * maximumPercent) / 100)
    const minHealthy = Math.ceil((desired * minimumHealthyPercent) / 100)

    // Old deployments: unhealthy or unstarted tasks may always go; healthy ones while enough stay healthy.
    const old = live().filter((t) => t.deploymentId !== primary.id)
    for (const task of old) if (!this.isHealthy(task, now)) this.stopServiceTask(task, scaling)
    let healthy = live().filter((t) => this.isHealthy(t, now)).length
    for (const task of old
      .filter((t) => t.desiredStatus === 'RUNNING')
      .sort((a, b) => a.createdAt - b.createdAt)) {
      if (healthy - 1 < minHealthy) break
      this.stopServiceTask(task, scaling)
      healthy -= 1
    }

    // maximumPercent bounds the tasks that are RUNNING or on their way; stopping ones do not count.
    if ((service.nextLaunchAt ?? 0) > now) return this.wakeAt(service.nextLaunchAt ?? now)
    const all = live()
    const need = desired - all.filter((t) => t.deploymentId === primary.id).length
    const room = maxTasks - all.length
    const definition = this.state.taskDefinitions[primary.taskDefinition]
    if (!definition) return
    for (let i = 0; i < Math.min(need, room); i += 1) {
      const task = this.createTask({
        clusterArn: service.clusterArn,
        region: service.region,
        taskDefinition: definition,
        group: `service:${service.name}`,
        startedBy: primary.id,
        serviceArn: service.arn,
        deploymentId: primary.id,
        ...(service.launchType ? { launchType: service.launchType } : {}),
        overrides: {
          containerOverrides: containerDefinitions(definition.definition).map((c) => ({ name: c.name })),
          inferenceAcceleratorOverrides: [],
        },
        ...(service.networkConfiguration ? { networkConfiguration: service.networkConfiguration } : {}),
        ...this.propagatedTags(service, definition),
      })
      const list = this.started.get(service.arn) ?? []
      list.push(task.id)
      this.started.set(service.arn, list)
    }
  }

  private propagatedTags(service: ServiceRecord, definition: TaskDefinitionRecord): { tags?: Tag[] } {
    const from =
      service.propagateTags === 'SERVICE'
        ? service.arn
        : service.propagateTags === 'TASK_DEFINITION'
          ? definition.arn
          : undefined
    const tags = from ? this.state.tags[from] : undefined
    return tags?.length ? { tags: [...tags] } : {}
  }

  /** Failed launches count toward the circuit breaker until a task of the deployment is healthy. */
  private countFailure(task: TaskRecord): void {
    if (!task.serviceArn || task.healthyAt !== undefined || task.countedAsFailure) return
    const service = this.state.services[task.serviceArn]
    const deployment = service?.deployments.find((d) => d.id === task.deploymentId)
    if (!service || !deployment) return
    task.countedAsFailure = true
    const now = Date.now()
    deployment.failedTasks += 1
    deployment.updatedAt = now
    service.consecutiveLaunchFailures += 1
    const backoff = Math.min(
      this.timings.launchBackoffMaxMs,
      this.timings.launchBackoffMs * 2 ** (service.consecutiveLaunchFailures - 1),
    )
    // Never relaunch in the same tick: a task that fails at once must not spin the loop.
    service.nextLaunchAt = now + Math.max(backoff, MIN_TICK_MS)
    this.circuitBreaker(service, deployment, now)
  }

  private circuitBreaker(service: ServiceRecord, deployment: DeploymentRecord, now: number): void {
    if (deployment.status !== 'PRIMARY' || deployment.rolloutState !== 'IN_PROGRESS') return
    if (deployment.failedTasks < failureThreshold(service.desiredCount)) return
    if (!deployment.warnedUnableToStart) {
      deployment.warnedUnableToStart = true
      addEvent(
        service,
        'is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.',
        now,
      )
    }
    const breaker = service.deploymentConfiguration.deploymentCircuitBreaker
    if (!breaker.enable) return
    deployment.rolloutState = 'FAILED'
    deployment.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.'
    deployment.updatedAt = now
    addEvent(service, `(deployment ${deployment.id}) deployment failed: tasks failed to start.`, now)
    const target = service.lastCompleted
    if (!breaker.rollback || !target || target.id === deployment.id) return
    if (this.state.taskDefinitions[target.taskDefinition]?.status !== 'ACTIVE') {
      // Inferred: ECS cannot start a new deployment of a deregistered revision, so no rollback happens.
      addEvent(
        service,
        `(deployment ${deployment.id}) cannot roll back: task definition ${target.taskDefinition} is inactive.`,
        now,
      )
      return
    }
    addEvent(service, `(deployment ${deployment.id}) rolling back to deployment ${target.id}`, now)
    startDeployment(
      service,
      target.taskDefinition,
      now,
      `ECS deployment circuit breaker: rolling back to deploymentId ${target.id}.`,
    )
  }

  /** Counts, drained deployments, rollout completion, steady state, DRAINING → INACTIVE. */
  private evaluate(service: ServiceRecord, now: number): void {
    if (service.status === 'INACTIVE') return
    const tasks = this.tasksOfService(service)
    for (const task of tasks) {
      if (task.healthyAt === undefined && this.isHealthy(task, now)) {
        task.healthyAt = now
        const deployment = service.deployments.find((d) => d.id === task.deploymentId)
        if (deployment?.status === 'PRIMARY' && deployment.failedTasks > 0) deployment.failedTasks = 0
        service.consecutiveLaunchFailures = 0
      }
    }
    if (service.status === 'DRAINING') {
      if (tasks.length === 0) {
        service.status = 'INACTIVE'
        service.deletedAt = now
      }
      return
    }
    const primary = service.deployments[0]
    if (!primary) return
    primary.desiredCount = service.desiredCount
    for (const deployment of service.deployments.slice(1)) {
      const mine = tasks.filter((t) => t.deploymentId === deployment.id)
      deployment.desiredCount = mine.filter(isLive).length
      if (mine.every((t) => DRAINED.includes(t.lastStatus))) {
        deployment.status = 'INACTIVE'
        deployment.updatedAt = now
        service.deployments.splice(service.deployments.indexOf(deployment), 1)
        service.pastDeployments.unshift(deployment)
        if (service.pastDeployments.length > 20) service.pastDeployments.length = 20
      }
    }
    const ofPrimary = tasks.filter((t) => t.deploymentId === primary.id && isLive(t))
    const allHealthy = ofPrimary.every((t) => this.isHealthy(t, now))
    const settled =
      service.deployments.length === 1 && ofPrimary.length === service.desiredCount && allHealthy
    if (settled && primary.rolloutState === 'IN_PROGRESS') {
      primary.rolloutState = 'COMPLETED'
      primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`
      primary.updatedAt = now
      service.lastCompleted = { id: primary.id, taskDefinition: primary.taskDefinition }
      addEvent(service, `(deployment ${primary.id}) deployment completed.`, now)
    }
    const running = tasks.filter((t) => t.lastStatus === 'RUNNING').length
    // Steady once nothing is starting or draining; containers in their SIGTERM grace do not hold it back.
    const steady =
      settled &&
      running === service.desiredCount &&
      tasks.every((t) => isLive(t) || DRAINED.includes(t.lastStatus))
    if (steady && !service.steady) addEvent(service, 'has reached a steady state.', now)
    service.steady = steady
  }

  private flushTaskEvents(now: number): void {
    for (const [arn, ids] of this.stoppedByScheduler) {
      const service = this.state.services[arn]
      if (service)
        addEvent(
          service,
          `has stopped ${ids.length} running tasks: ${ids.map((id) => `(task ${id})`).join(' ')}.`,
          now,
        )
    }
    this.stoppedByScheduler.clear()
    for (const [arn, ids] of this.started) {
      const service = this.state.services[arn]
      if (service)
        addEvent(
          service,
          `has started ${ids.length} tasks: ${ids.map((id) => `(task ${id})`).join(' ')}.`,
          now,
        )
    }
    this.started.clear()
  }

  private registerTargets(task: TaskRecord): void {
    const service = task.serviceArn ? this.state.services[task.serviceArn] : undefined
    if (!service) return
    const ports: Record<string, number> = {}
    for (const c of task.containers)
      for (const b of c.networkBindings) ports[String(b.containerPort)] = b.hostPort
    for (const lb of service.loadBalancers) {
      if (!lb.targetGroupArn || !this.deps.elb.targetGroup(lb.targetGroupArn)) continue
      this.deps.elb.registerTarget(lb.targetGroupArn, task.privateIp, lb.containerPort, {
        host: '127.0.0.1',
        ports,
      })
      task.targets.push({
        targetGroupArn: lb.targetGroupArn,
        id: task.privateIp,
        port: lb.containerPort,
        containerName: lb.containerName,
      })
      addEvent(service, `registered 1 targets in (target-group ${lb.targetGroupArn})`)
    }
  }

  private purge(now: number): void {
    for (const task of Object.values(this.state.tasks)) {
      if (
        task.lastStatus === 'STOPPED' &&
        now - (task.stoppedAt ?? now) > this.timings.stoppedTaskRetentionMs
      ) {
        Reflect.deleteProperty(this.state.tasks, task.arn)
        Reflect.deleteProperty(this.state.tags, task.arn)
      }
    }
    for (const service of Object.values(this.state.services)) {
      if (
        service.status === 'INACTIVE' &&
        now - (service.deletedAt ?? now) > this.timings.inactiveServiceRetentionMs
      ) {
        Reflect.deleteProperty(this.state.services, service.arn)
      }
    }
  }

  // ---- restart and shutdown ----

  private specFor(task: TaskRecord): TaskSpec | undefined {
    const definition = this.state.taskDefinitions[task.taskDefinitionArn]
    if (!definition) return undefined
    try {
      const built = buildTaskSpec(task, definition.definition, definition.family, definition.revision, {
        workDir: this.deps.workDir,
        secrets: this.deps.secrets(),
        timings: this.timings,
      })
      this.built.set(task.arn, built)
      return built.spec
    } catch {
      return undefined
    }
  }

  /**
   * After a restart: tasks whose containers still run (Docker, after a crash of ecs-local) are
   * adopted and carry on; every other task that was not STOPPED is marked STOPPED with a reason
   * saying so, and its services start replacements.
   */
  async restore(): Promise<void> {
    const now = Date.now()
    const open = Object.values(this.state.tasks).filter((t) => t.lastStatus !== 'STOPPED')
    const specs = open.flatMap((t) => {
      const spec = ['ACTIVATING', 'RUNNING', 'DEACTIVATING', 'STOPPING'].includes(t.lastStatus)
        ? this.specFor(t)
        : undefined
      return spec ? [spec] : []
    })
    const adopted = await this.runtime.adopt(specs)
    for (const task of open) {
      const containers = adopted.get(task.arn)
      if (containers && (task.lastStatus === 'RUNNING' || task.lastStatus === 'DEACTIVATING')) {
        for (const c of task.containers) {
          const live = containers.find((s) => s.name === c.name)
          if (!live) continue
          c.networkBindings = live.networkBindings
          c.runtimeId = live.runtimeId
          if (c.healthCheck && c.lastStatus === 'RUNNING') c.health = { failures: 0, nextCheckAt: now }
        }
        continue
      }
      if (containers) {
        // Caught half-way: take it down properly.
        this.starting.set(task.arn, { settled: true, targetsRegistered: true })
        this.requestStop(
          task,
          `ecs-local restarted while the task was ${task.lastStatus}`,
          'ServiceSchedulerInitiated',
        )
        continue
      }
      const hadStarted = task.containers.some((c) => c.runtimeId)
      for (const target of task.targets) {
        const group = this.deps.elb.targetGroup(target.targetGroupArn)
        if (group)
          group.targets = group.targets.filter((t) => !(t.id === target.id && t.port === target.port))
      }
      task.targets = []
      task.desiredStatus = 'STOPPED'
      task.stoppedReason ??=
        this.runtime.kind === 'simulated'
          ? 'ecs-local restarted: simulated containers do not survive a restart'
          : 'ecs-local restarted and the containers of this task no longer exist'
      task.stopCode ??= hadStarted ? 'EssentialContainerExited' : 'TaskFailedToStart'
      task.stoppingAt ??= now
      for (const c of task.containers) c.lastStatus = 'STOPPED'
      this.setStatus(task, 'STOPPED', now)
      task.stoppedAt = now
      this.deps.monitor.end(task.arn, now)
    }
    this.deps.store.changed()
  }

  /** Clean shutdown: every container is removed; tasks that were alive are STOPPED, saying why. */
  async shutdown(): Promise<void> {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    if (this.wakeTimer) clearTimeout(this.wakeTimer)
    await Promise.all(this.removals)
    await this.runtime.shutdown()
    const now = Date.now()
    for (const task of Object.values(this.state.tasks)) {
      if (task.lastStatus === 'STOPPED') continue
      for (const target of task.targets) {
        const group = this.deps.elb.targetGroup(target.targetGroupArn)
        if (group)
          group.targets = group.targets.filter((t) => !(t.id === target.id && t.port === target.port))
      }
      task.targets = []
      task.desiredStatus = 'STOPPED'
      task.stoppedReason ??= 'ecs-local was shut down and removed the containers of this task'
      task.stoppingAt ??= now
      for (const c of task.containers) c.lastStatus = 'STOPPED'
      this.setStatus(task, 'STOPPED', now)
      task.stoppedAt = now
      this.deps.monitor.end(task.arn, now)
    }
    this.deps.store.changed()
  }
}

/** A task's health from its containers': essential ones decide; without any, the others with checks. */
export function taskHealth(containers: ContainerRecord[]): HealthStatus {
  const essential = containers.filter((c) => c.essential && c.healthCheck)
  const checked = essential.length > 0 ? essential : containers.filter((c) => c.healthCheck)
  if (checked.length === 0) return 'UNKNOWN'
  if (checked.some((c) => c.healthStatus === 'UNHEALTHY')) return 'UNHEALTHY'
  if (checked.some((c) => c.healthStatus !== 'HEALTHY')) return 'UNKNOWN'
  return 'HEALTHY'
}
