import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { docker, dockerEngineAnswers, dockerEngineProblem, dockerOk } from './docker-cli.ts'
import { imageNotFound, localReference } from './images.ts'
import {
  LaunchError,
  type ContainerSpec,
  type NetworkBinding,
  type RuntimeEvents,
  type StartedContainer,
  type TaskRuntime,
  type TaskSpec,
} from './types.ts'

/**
 * The pause image of one ecs-local home: a tag of its own (the layers are shared through Docker's
 * cache), so that stop can remove it without pulling it from under another ecs-local.
 */
export function pauseImage(home: string): string {
  return `ecs-local/pause:busybox-${safeName(home).toLowerCase().slice(0, 64)}`
}

export interface DockerRuntimeOptions {
  /** Labels every container, so a restart with the same state finds them and shutdown removes them. */
  home: string
  /** Holds ecs-local's own Docker client config (its registry login) and the pause image's context. */
  workDir: string
  /** The registry behind ECR: images under its host (or an ECR host name) are pulled with its password. */
  registry?: () => { host: string; password: string } | undefined
}

interface TrackedContainer {
  spec: ContainerSpec
  id?: string
  exited: boolean
  waiters: (() => void)[]
  follower?: ChildProcess
}

interface TrackedTask {
  spec: TaskSpec
  pauseId?: string
  containers: Map<string, TrackedContainer>
}

function safeName(text: string): string {
  return text.replace(/[^a-zA-Z0-9_.-]/g, '-')
}

/** Finds a static busybox to build the pause image from (Debian: busybox-static). */
function staticBusybox(): string {
  const found = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' })
  const path = found.stdout.trim()
  if (found.status !== 0 || !path) {
    throw new Error(
      'busybox is not installed: apt-get install busybox-static (ecs-local builds its pause image from it)',
    )
  }
  const ldd = spawnSync('ldd', [path], { encoding: 'utf8' })
  if (ldd.status === 0 && !/not a dynamic|statically linked/.test(ldd.stdout + ldd.stderr)) {
    throw new Error(`${path} is not a static busybox: apt-get install busybox-static`)
  }
  return path
}

/**
 * Runs each task as real containers. A pause container (busybox sleeping, built FROM scratch)
 * holds the task's network namespace and publishes its port mappings on free 127.0.0.1 ports;
 * the task's containers join it (`--network container:`) and reach each other on localhost, as in
 * awsvpc. Exits are watched through one `docker events` stream; awslogs output through
 * `docker logs --follow`; health checks through `docker exec`.
 */
export class DockerRuntime implements TaskRuntime {
  readonly kind = 'docker' as const
  private readonly options: DockerRuntimeOptions
  private readonly events: RuntimeEvents
  private readonly env: Record<string, string>
  private readonly tasks = new Map<string, TrackedTask>()
  private watcher: ChildProcess | undefined
  private shuttingDown = false
  private login: Promise<void> | undefined
  private loggedInAs = ''
  /** Images pulled from ecs-local's registry, removed at shutdown. */
  private readonly pulled = new Set<string>()
  private readonly pauseImage: string

  private constructor(options: DockerRuntimeOptions, events: RuntimeEvents) {
    this.options = options
    this.pauseImage = pauseImage(options.home)
    this.events = events
    this.env = { DOCKER_CONFIG: join(options.workDir, 'docker-config') }
  }

  static async create(options: DockerRuntimeOptions, events: RuntimeEvents): Promise<DockerRuntime> {
    if (!dockerEngineAnswers()) {
      throw new Error(
        `Docker is not reachable: ${dockerEngineProblem()}. Start dockerd (or set DOCKER_HOST), or run ecs-local with runtime 'simulated'.`,
      )
    }
    mkdirSync(join(options.workDir, 'docker-config'), { recursive: true })
    const runtime = new DockerRuntime(options, events)
    await runtime.ensurePauseImage()
    runtime.watch()
    return runtime
  }

  private async ensurePauseImage(): Promise<void> {
    if ((await docker(['image', 'inspect', this.pauseImage], { env: this.env })).code === 0) return
    const context = join(this.options.workDir, 'pause-image')
    mkdirSync(context, { recursive: true })
    copyFileSync(staticBusybox(), join(context, 'busybox'))
    writeFileSync(
      join(context, 'Dockerfile'),
      [
        '# Holds a task network namespace, like ECS pause container.',
        'FROM scratch',
        'COPY busybox /busybox',
        'LABEL ecs-local.pause=true',
        'ENTRYPOINT ["/busybox", "sleep", "2147483647"]',
        '',
      ].join('\n'),
    )
    await dockerOk(['build', '--quiet', '--tag', this.pauseImage, context], {
      env: this.env,
      timeoutMs: 180_000,
    })
    rmSync(context, { recursive: true, force: true })
  }

  /** One `docker events` stream for every container exit of this ecs-local. */
  private watch(): void {
    const child = spawn(
      'docker',
      [
        'events',
        '--format',
        '{{json .}}',
        '--filter',
        'type=container',
        '--filter',
        'event=die',
        '--filter',
        `label=ecs-local.home=${this.options.home}`,
      ],
      { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'ignore'] },
    )
    this.watcher = child
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const event = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } }
        const attributes = event.Actor?.Attributes ?? {}
        const taskArn = attributes['ecs-local.task']
        const name = attributes['ecs-local.container']
        if (taskArn && name) void this.exited(taskArn, name, Number(attributes.exitCode))
      } catch {
        // Not an event line.
      }
    })
    child.on('exit', () => {
      if (this.shuttingDown) return
      // The stream broke: watch again, and look at every container we think is alive.
      setTimeout(() => {
        if (this.shuttingDown) return
        this.watch()
        void this.recheckAll()
      }, 1000).unref()
    })
  }

  private async recheckAll(): Promise<void> {
    for (const task of this.tasks.values()) {
      for (const container of task.containers.values()) {
        if (container.id && !container.exited) await this.recheck(task.spec.taskArn, container)
      }
    }
  }

  /** Asks the engine whether a container still runs; reports the exit when it does not. */
  private async recheck(taskArn: string, container: TrackedContainer): Promise<void> {
    if (!container.id) return
    const result = await docker(
      ['container', 'inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', container.id],
      {
        env: this.env,
      },
    )
    if (result.code !== 0) return this.exited(taskArn, container.spec.name, undefined)
    const [running, code] = result.stdout.split(' ')
    if (running !== 'true') await this.exited(taskArn, container.spec.name, Number(code))
  }

  private async exited(taskArn: string, name: string, exitCode: number | undefined): Promise<void> {
    const container = this.tasks.get(taskArn)?.containers.get(name)
    if (!container || container.exited) return
    container.exited = true
    let reason: string | undefined
    if (container.id) {
      const oom = await docker(['container', 'inspect', '--format', '{{.State.OOMKilled}}', container.id], {
        env: this.env,
      })
      if (oom.stdout === 'true') reason = 'OutOfMemoryError: Container killed due to memory usage'
    }
    this.events.containerExited(taskArn, name, Number.isFinite(exitCode) ? exitCode : undefined, reason)
    for (const waiter of container.waiters.splice(0)) waiter()
  }

  private labels(spec: TaskSpec, container: string): string[] {
    const labels = {
      'ecs-local.home': this.options.home,
      'ecs-local.task': spec.taskArn,
      'ecs-local.container': container,
      'com.amazonaws.ecs.task-arn': spec.taskArn,
      'com.amazonaws.ecs.container-name': container,
      'com.amazonaws.ecs.task-definition-family': spec.family,
      'com.amazonaws.ecs.task-definition-version': String(spec.revision),
    }
    return Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`])
  }

  private containerName(spec: TaskSpec, container: string): string {
    return safeName(`ecs-${spec.family}-${spec.revision}-${container}-${spec.taskId.slice(0, 12)}`)
  }

  private async loginTo(registry: { host: string; password: string }): Promise<void> {
    const key = `${registry.host}|${registry.password}`
    if (this.loggedInAs !== key || !this.login) {
      this.loggedInAs = key
      this.login = dockerOk(['login', '--username', 'AWS', '--password-stdin', registry.host], {
        env: this.env,
        input: registry.password,
      }).then(() => undefined)
      this.login.catch(() => (this.login = undefined))
    }
    await this.login
  }

  /** The image to run and its digest: pulled from the local registry, or found in the local engine. */
  private async resolveImage(image: string): Promise<{ ref: string; digest?: string }> {
    const registry = this.options.registry?.()
    const ref = localReference(image, registry?.host)
    const fromRegistry = registry !== undefined && ref.startsWith(`${registry.host}/`)
    if (fromRegistry) {
      // ECS pulls every time, so a re-pushed tag is what runs; a missing image fails the launch.
      await this.loginTo(registry)
      const pull = await docker(['pull', '--quiet', ref], { env: this.env, timeoutMs: 300_000 })
      if (pull.code !== 0) throw pullError(image, pull.stderr)
      this.pulled.add(ref)
    } else if (
      (await docker(['image', 'inspect', '--format', '{{.Id}}', ref], { env: this.env })).code !== 0
    ) {
      const pull = await docker(['pull', '--quiet', ref], { env: this.env, timeoutMs: 300_000 })
      if (pull.code !== 0) throw pullError(image, pull.stderr)
    }
    const inspect = await docker(['image', 'inspect', '--format', '{{.Id}}|{{json .RepoDigests}}', ref], {
      env: this.env,
    })
    const [id, digestsJson = '[]'] = inspect.stdout.split('|')
    const repository = ref.replace(/@.*$/, '').replace(/:[^/:]+$/, '')
    const repoDigest = (JSON.parse(digestsJson) as string[] | null)?.find((d) =>
      d.startsWith(`${repository}@`),
    )
    return { ref, ...(repoDigest ? { digest: repoDigest.split('@')[1] } : id ? { digest: id } : {}) }
  }

  async start(spec: TaskSpec): Promise<StartedContainer[]> {
    const task: TrackedTask = { spec, containers: new Map() }
    for (const c of spec.containers) task.containers.set(c.name, { spec: c, exited: false, waiters: [] })
    this.tasks.set(spec.taskArn, task)

    this.events.pullStarted(spec.taskArn)
    const images = new Map<string, { ref: string; digest?: string }>()
    for (const c of spec.containers) {
      if (!images.has(c.image)) images.set(c.image, await this.resolveImage(c.image))
    }
    this.events.pullStopped(spec.taskArn)

    const publish = spec.containers.flatMap((c) =>
      c.portMappings.flatMap((p) => ['--publish', `127.0.0.1::${p.containerPort}/${p.protocol}`]),
    )
    const pause = await docker(
      [
        'run',
        '--detach',
        '--name',
        this.containerName(spec, 'internalecspause'),
        ...this.labels(spec, '~pause'),
        ...publish,
        this.pauseImage,
      ],
      { env: this.env },
    )
    if (pause.code !== 0)
      throw new LaunchError(`ResourceInitializationError: could not create the task network: ${pause.stderr}`)
    task.pauseId = pause.stdout
    const bindings = await this.bindings(task.pauseId)

    const started = await Promise.all(
      spec.containers.map(async (c) => {
        const image = images.get(c.image) as { ref: string; digest?: string }
        const tracked = task.containers.get(c.name) as TrackedContainer
        this.events.containerCreated(spec.taskArn, c.name)
        const { args, env } = this.runArgs(spec, c, task.pauseId as string, image.ref)
        const run = await docker(args, { env: { ...this.env, ...env } })
        if (run.code !== 0) {
          // `docker run` may have created the container before failing to start it.
          tracked.exited = true
          throw new LaunchError(`CannotStartContainerError: ${lastLine(run.stderr)}`, c.name)
        }
        tracked.id = run.stdout
        this.events.containerStarted(spec.taskArn, c.name)
        if (c.logging) this.follow(tracked, c, run.stdout, false)
        return {
          name: c.name,
          runtimeId: run.stdout,
          ...(image.digest ? { imageDigest: image.digest } : {}),
          networkBindings: bindings.filter((b) =>
            c.portMappings.some((p) => p.containerPort === b.containerPort),
          ),
        }
      }),
    )
    // A container can die before its id was known; look once more now that all are.
    for (const tracked of task.containers.values()) await this.recheck(spec.taskArn, tracked)
    return started
  }

  private runArgs(spec: TaskSpec, c: ContainerSpec, pauseId: string, ref: string) {
    const args = ['run', '--detach', '--name', this.containerName(spec, c.name), ...this.labels(spec, c.name)]
    args.push('--network', `container:${pauseId}`)
    const env: Record<string, string> = {}
    for (const [name, value] of Object.entries(c.environment)) {
      // Values travel in the CLI's environment, off the command line; DOCKER_* would steer the CLI itself.
      if (name.startsWith('DOCKER_') || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        args.push('--env', `${name}=${value}`)
      else {
        args.push('--env', name)
        env[name] = value
      }
    }
    for (const m of c.mounts)
      args.push('--volume', `${m.hostPath}:${m.containerPath}${m.readOnly ? ':ro' : ''}`)
    if (c.workingDirectory) args.push('--workdir', c.workingDirectory)
    if (c.user) args.push('--user', c.user)
    // Docker takes one entrypoint word; the rest of ECS's entryPoint goes before the command.
    if (c.entryPoint) args.push('--entrypoint', c.entryPoint[0] as string)
    args.push(ref, ...(c.entryPoint?.slice(1) ?? []), ...(c.command ?? []))
    return { args, env }
  }

  private async bindings(pauseId: string): Promise<NetworkBinding[]> {
    const ports = await dockerOk(
      ['container', 'inspect', '--format', '{{json .NetworkSettings.Ports}}', pauseId],
      {
        env: this.env,
      },
    )
    const parsed = (JSON.parse(ports) ?? {}) as Record<string, { HostIp: string; HostPort: string }[] | null>
    return Object.entries(parsed).flatMap(([key, hosts]) => {
      const [port, protocol] = key.split('/') as [string, string]
      const host = hosts?.find((h) => h.HostIp === '127.0.0.1') ?? hosts?.[0]
      return host
        ? [
            {
              bindIP: '127.0.0.1',
              containerPort: Number(port),
              hostPort: Number(host.HostPort),
              protocol: protocol === 'udp' ? ('udp' as const) : ('tcp' as const),
            },
          ]
        : []
    })
  }

  /** awslogs: the container's stdout and stderr, line by line, with Docker's timestamps. */
  private follow(tracked: TrackedContainer, c: ContainerSpec, id: string, onlyNew: boolean): void {
    const destination = c.logging
    if (!destination) return
    const args = [
      'logs',
      '--follow',
      '--timestamps',
      ...(onlyNew ? ['--since', new Date().toISOString()] : []),
      id,
    ]
    const child = spawn('docker', args, {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    tracked.follower = child
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        const space = line.indexOf(' ')
        const stamp = Date.parse(line.slice(0, space))
        const message = space > 0 && Number.isFinite(stamp) ? line.slice(space + 1) : line
        this.events.log(destination, message, Number.isFinite(stamp) ? stamp : Date.now())
      })
    }
  }

  async stop(taskArn: string): Promise<void> {
    const task = this.tasks.get(taskArn)
    if (!task) return
    await Promise.all(
      [...task.containers.values()].map(async (container) => {
        if (container.exited || !container.id) return
        const id = container.id
        const exited = new Promise<void>((resolve) => container.waiters.push(resolve))
        await docker(['kill', '--signal', 'TERM', id], { env: this.env })
        const kill = setTimeout(
          () => void docker(['kill', '--signal', 'KILL', id], { env: this.env }),
          container.spec.stopTimeoutMs,
        )
        // Should an exit event be missed, ask the engine now and then.
        const poll = setInterval(() => void this.recheck(taskArn, container), 2000)
        kill.unref()
        poll.unref()
        await exited
        clearTimeout(kill)
        clearInterval(poll)
      }),
    )
  }

  async crash(taskArn: string): Promise<void> {
    for (const container of this.tasks.get(taskArn)?.containers.values() ?? []) {
      if (container.spec.essential && container.id && !container.exited) {
        await docker(['kill', '--signal', 'KILL', container.id], { env: this.env })
      }
    }
  }

  async healthCheck(
    taskArn: string,
    containerName: string,
    command: string[],
    timeoutMs: number,
  ): Promise<boolean> {
    const container = this.tasks.get(taskArn)?.containers.get(containerName)
    if (!container?.id || container.exited) return false
    const [kind, ...rest] = command
    const argv = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : kind === 'CMD' ? rest : command
    if (argv.length === 0) return false
    const result = await docker(['exec', container.id, ...argv], {
      env: this.env,
      timeoutMs: Math.max(timeoutMs, 100),
    })
    return result.code === 0
  }

  async remove(taskArn: string): Promise<void> {
    const task = this.tasks.get(taskArn)
    if (!task) return
    this.tasks.delete(taskArn)
    for (const container of task.containers.values()) container.follower?.kill()
    const ids = [...task.containers.values()].flatMap((c) => (c.id ? [c.id] : []))
    if (task.pauseId) ids.push(task.pauseId)
    // Containers that failed to start have no id we know of: find every one by its label.
    const labelled = await docker(['ps', '--all', '--quiet', '--filter', `label=ecs-local.task=${taskArn}`], {
      env: this.env,
    })
    ids.push(...labelled.stdout.split('\n').filter(Boolean))
    if (ids.length > 0) await docker(['rm', '--force', '--volumes', ...new Set(ids)], { env: this.env })
  }

  async adopt(specs: TaskSpec[]): Promise<Map<string, StartedContainer[]>> {
    const listing = await docker(
      [
        'ps',
        '--all',
        '--no-trunc',
        '--filter',
        `label=ecs-local.home=${this.options.home}`,
        '--format',
        '{{.ID}}|{{.State}}|{{.Label "ecs-local.task"}}|{{.Label "ecs-local.container"}}',
      ],
      { env: this.env },
    )
    const found = listing.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [id, state, taskArn, name] = line.split('|') as [string, string, string, string]
        return { id, running: state === 'running', taskArn, name }
      })
    const adopted = new Map<string, StartedContainer[]>()
    for (const spec of specs) {
      const mine = found.filter((f) => f.taskArn === spec.taskArn)
      const pause = mine.find((f) => f.name === '~pause')
      const essentialRunning = spec.containers
        .filter((c) => c.essential)
        .every((c) => mine.some((f) => f.name === c.name && f.running))
      if (!pause?.running || !essentialRunning) continue
      const task: TrackedTask = { spec, pauseId: pause.id, containers: new Map() }
      this.tasks.set(spec.taskArn, task)
      const bindings = await this.bindings(pause.id)
      const started: StartedContainer[] = []
      for (const c of spec.containers) {
        const live = mine.find((f) => f.name === c.name)
        const tracked: TrackedContainer = {
          spec: c,
          exited: !live?.running,
          waiters: [],
          ...(live ? { id: live.id } : {}),
        }
        task.containers.set(c.name, tracked)
        if (live?.running && c.logging) this.follow(tracked, c, live.id, true)
        if (live) {
          started.push({
            name: c.name,
            runtimeId: live.id,
            networkBindings: bindings.filter((b) =>
              c.portMappings.some((p) => p.containerPort === b.containerPort),
            ),
          })
        }
      }
      adopted.set(spec.taskArn, started)
    }
    // Whatever was not adopted is a leftover of a task that is gone.
    const leftovers = found.filter((f) => !adopted.has(f.taskArn)).map((f) => f.id)
    if (leftovers.length > 0) await docker(['rm', '--force', '--volumes', ...leftovers], { env: this.env })
    return adopted
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true
    this.watcher?.kill()
    // Every container is about to be removed: a stop still waiting for an exit may end now.
    for (const task of this.tasks.values()) {
      for (const c of task.containers.values()) {
        c.follower?.kill()
        c.exited = true
        for (const waiter of c.waiters.splice(0)) waiter()
      }
    }
    this.tasks.clear()
    const all = await docker(
      ['ps', '--all', '--quiet', '--filter', `label=ecs-local.home=${this.options.home}`],
      {
        env: this.env,
      },
    )
    const ids = all.stdout.split('\n').filter(Boolean)
    if (ids.length > 0) await docker(['rm', '--force', '--volumes', ...ids], { env: this.env })
    // What it pulled from its own registry and its pause image are of no use to anyone else.
    for (const ref of [...this.pulled, this.pauseImage]) await docker(['rmi', ref], { env: this.env })
    this.pulled.clear()
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').slice(-1)[0] ?? ''
}

/** ECS's words for an image that cannot be pulled. */
function pullError(image: string, stderr: string): LaunchError {
  if (/not found|manifest unknown|does not exist|no such host|repository .* not found/i.test(stderr)) {
    return imageNotFound(image)
  }
  return new LaunchError(
    `CannotPullContainerError: pull image manifest has been retried 1 time(s): ${lastLine(stderr)}`,
  )
}
