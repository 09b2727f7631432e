import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomHex } from '../ids.ts'
import { imageNotFound } from './images.ts'
import type {
  ContainerSpec,
  NetworkBinding,
  RuntimeEvents,
  StartedContainer,
  TaskRuntime,
  TaskSpec,
} from './types.ts'

/** How a simulated container built from an image behaves. Every field is optional. */
export interface SimulatedImageBehaviour {
  /** From creation to running (default 0). */
  startMs?: number
  /** Health checks pass and its ports answer 200 (default true); false: they fail, ports answer 503. */
  healthy?: boolean
  /** Health checks fail until this long after start (default 0). */
  healthyAfterMs?: number
  /** Exits by itself this long after start with `exitCode` (default 1): a crash. */
  crashAfterMs?: number
  /** Exits by itself this long after start with `exitCode` (default 0): a one-off job finishing. */
  runMs?: number
  exitCode?: number
  /** From SIGTERM to exit (default 0); past the container's stopTimeout it is SIGKILLed (exit 137). */
  stopMs?: number
  /**
   * Takes an exclusive lock on every shared volume it mounts (EFS, host path), like SQLite or
   * Qdrant: when another live container holds one, it writes "database is locked" and exits 1.
   */
  takesLock?: boolean
  /** Answers HTTP on its port mappings (default true). */
  http?: boolean
  /** Lines written to its log at start. */
  logs?: string[]
  /** Fields added to every JSON answer (e.g. a deep health check's `{"vector_store":"ok"}`). */
  answer?: Record<string, unknown>
}

export interface SimulatedRuntimeOptions {
  /**
   * Whether an image can be pulled: false fails the launch with CannotPullContainerError, as
   * Docker would; undefined means "assume so". ecs-local asks its registry for images under its host.
   */
  imageAvailable?: (image: string) => Promise<boolean | undefined>
  /** Behaviour by image: an exact image reference, or a part of one (the longest match wins). */
  images?: Record<string, SimulatedImageBehaviour>
  /** For images no key matches. */
  defaultBehaviour?: SimulatedImageBehaviour
  /**
   * Every container answers requests for this path only when it exits, like a long poll or a
   * stream: the load balancer keeps a connection in flight, so a drain lasts its whole delay.
   */
  holdPath?: string
}

interface SimContainer {
  spec: ContainerSpec
  behaviour: SimulatedImageBehaviour
  runtimeId: string
  startedAt?: number
  exited: boolean
  timers: NodeJS.Timeout[]
  servers: Server[]
  locks: string[]
  exitWaiters: (() => void)[]
}

interface SimTask {
  spec: TaskSpec
  containers: SimContainer[]
}

export function behaviourFor(image: string, options: SimulatedRuntimeOptions): SimulatedImageBehaviour {
  const images = options.images ?? {}
  if (images[image]) return images[image]
  const key = Object.keys(images)
    .filter((k) => image.includes(k))
    .sort((a, b) => b.length - a.length)[0]
  return key ? (images[key] as SimulatedImageBehaviour) : (options.defaultBehaviour ?? {})
}

/**
 * Containers as timed state machines: no Docker, real time. Ports are real HTTP servers on
 * 127.0.0.1 so the load balancer's health checks and proxy work the same as with Docker.
 */
export class SimulatedRuntime implements TaskRuntime {
  readonly kind = 'simulated' as const
  private readonly options: SimulatedRuntimeOptions
  private readonly events: RuntimeEvents
  private readonly tasks = new Map<string, SimTask>()
  /** Host path → the container holding its lock. */
  private readonly locks = new Map<string, SimContainer>()

  constructor(options: SimulatedRuntimeOptions, events: RuntimeEvents) {
    this.options = options
    this.events = events
  }

  async start(spec: TaskSpec): Promise<StartedContainer[]> {
    const task: SimTask = { spec, containers: [] }
    this.tasks.set(spec.taskArn, task)
    this.events.pullStarted(spec.taskArn)
    for (const image of new Set(spec.containers.map((c) => c.image))) {
      if ((await this.options.imageAvailable?.(image)) === false) {
        this.tasks.delete(spec.taskArn)
        throw imageNotFound(image)
      }
    }
    this.events.pullStopped(spec.taskArn)
    const started: Promise<StartedContainer>[] = spec.containers.map(async (containerSpec) => {
      const container: SimContainer = {
        spec: containerSpec,
        behaviour: behaviourFor(containerSpec.image, this.options),
        runtimeId: randomHex(64),
        exited: false,
        timers: [],
        servers: [],
        locks: [],
        exitWaiters: [],
      }
      task.containers.push(container)
      this.events.containerCreated(spec.taskArn, containerSpec.name)
      const networkBindings = container.behaviour.http === false ? [] : await this.serve(container)
      // Stopped before it started: the exit ends the wait too.
      await new Promise<void>((resolve) => {
        container.exitWaiters.push(resolve)
        container.timers.push(setTimeout(resolve, container.behaviour.startMs ?? 0))
      })
      if (!container.exited) this.run(spec, container)
      return {
        name: containerSpec.name,
        runtimeId: container.runtimeId,
        imageDigest: `sha256:${createHash('sha256').update(containerSpec.image).digest('hex')}`,
        networkBindings,
      }
    })
    return Promise.all(started)
  }

  private log(container: SimContainer, message: string): void {
    if (container.spec.logging) this.events.log(container.spec.logging, message, Date.now())
  }

  private run(spec: TaskSpec, container: SimContainer): void {
    const b = container.behaviour
    container.startedAt = Date.now()
    this.events.containerStarted(spec.taskArn, container.spec.name)
    for (const line of b.logs ?? [`${container.spec.image} started (simulated)`]) this.log(container, line)
    if (b.takesLock) {
      const paths = container.spec.mounts.filter((m) => m.shared).map((m) => m.hostPath)
      const held = paths.find((p) => {
        const holder = this.locks.get(p)
        return holder && !holder.exited && holder !== container
      })
      if (held) {
        this.log(container, `sqlite3.OperationalError: database is locked (${held})`)
        this.exit(spec.taskArn, container, 1)
        return
      }
      for (const p of paths) this.locks.set(p, container)
      container.locks = paths
    }
    if (b.crashAfterMs !== undefined) {
      container.timers.push(
        setTimeout(() => {
          this.log(container, 'fatal: exiting (simulated crash)')
          this.exit(spec.taskArn, container, b.exitCode ?? 1)
        }, b.crashAfterMs),
      )
    } else if (b.runMs !== undefined) {
      container.timers.push(setTimeout(() => this.exit(spec.taskArn, container, b.exitCode ?? 0), b.runMs))
    }
  }

  private isHealthy(container: SimContainer): boolean {
    const b = container.behaviour
    if (container.exited || container.startedAt === undefined || b.healthy === false) return false
    return Date.now() - container.startedAt >= (b.healthyAfterMs ?? 0)
  }

  /** One HTTP server per port mapping: 200 while healthy, 503 while not, reset before start. */
  private async serve(container: SimContainer): Promise<NetworkBinding[]> {
    const bindings: NetworkBinding[] = []
    for (const mapping of container.spec.portMappings.filter((p) => p.protocol === 'tcp')) {
      const server = createServer((req, res) => {
        if (container.startedAt === undefined || container.exited) {
          req.socket.destroy()
          return
        }
        const hold = this.options.holdPath
        if (hold && req.url?.split('?')[0] === hold) {
          res.writeHead(200, { 'content-type': 'text/plain' })
          res.write('held\n')
          return
        }
        const healthy = this.isHealthy(container)
        res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            simulated: true,
            container: container.spec.name,
            image: container.spec.image,
            runtimeId: container.runtimeId,
            path: req.url,
            healthy,
            ...container.behaviour.answer,
          }),
        )
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      container.servers.push(server)
      bindings.push({
        bindIP: '127.0.0.1',
        containerPort: mapping.containerPort,
        hostPort: (server.address() as AddressInfo).port,
        protocol: 'tcp',
      })
    }
    return bindings
  }

  private exit(
    taskArn: string,
    container: SimContainer,
    exitCode: number | undefined,
    reason?: string,
  ): void {
    if (container.exited) return
    container.exited = true
    for (const timer of container.timers) clearTimeout(timer)
    for (const p of container.locks) if (this.locks.get(p) === container) this.locks.delete(p)
    for (const server of container.servers) {
      server.close()
      server.closeAllConnections()
    }
    this.events.containerExited(taskArn, container.spec.name, exitCode, reason)
    for (const waiter of container.exitWaiters.splice(0)) waiter()
  }

  async stop(taskArn: string): Promise<void> {
    const task = this.tasks.get(taskArn)
    if (!task) return
    await Promise.all(
      task.containers.map(
        (container) =>
          new Promise<void>((resolve) => {
            if (container.exited) return resolve()
            container.exitWaiters.push(resolve)
            if (container.startedAt === undefined) {
              this.exit(taskArn, container, undefined)
              return
            }
            this.log(container, 'received SIGTERM, shutting down')
            const stopMs = container.behaviour.stopMs ?? 0
            const killed = stopMs > container.spec.stopTimeoutMs
            container.timers.push(
              setTimeout(
                () => this.exit(taskArn, container, killed ? 137 : 0),
                Math.min(stopMs, container.spec.stopTimeoutMs),
              ),
            )
          }),
      ),
    )
  }

  async crash(taskArn: string): Promise<void> {
    for (const container of this.tasks.get(taskArn)?.containers ?? []) {
      if (!container.spec.essential || container.exited) continue
      this.log(container, 'fatal: crashed (ecs-local fault injection)')
      this.exit(taskArn, container, 1)
    }
  }

  async healthCheck(taskArn: string, containerName: string): Promise<boolean> {
    const container = this.tasks.get(taskArn)?.containers.find((c) => c.spec.name === containerName)
    return container ? this.isHealthy(container) : false
  }

  async remove(taskArn: string): Promise<void> {
    const task = this.tasks.get(taskArn)
    if (!task) return
    for (const container of task.containers) this.exit(taskArn, container, undefined)
    this.tasks.delete(taskArn)
  }

  /** Simulated containers live in this process: none survives a restart. */
  async adopt(): Promise<Map<string, StartedContainer[]>> {
    return new Map()
  }

  async shutdown(): Promise<void> {
    for (const taskArn of [...this.tasks.keys()]) await this.remove(taskArn)
  }
}
