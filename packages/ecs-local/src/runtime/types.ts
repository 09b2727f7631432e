/**
 * What the scheduler asks of a runtime: start a task's containers, stop them (SIGTERM, then SIGKILL
 * after each container's stopTimeout), run a health check command in one, remove what is left.
 * The same scheduler drives the Docker runtime and the simulated one.
 */

export interface MountSpec {
  hostPath: string
  containerPath: string
  readOnly: boolean
  /** A volume other tasks can mount too (EFS, host path): the invariant monitor watches these. */
  shared: boolean
}

/** Where a container's output goes with `logDriver: awslogs`. */
export interface LogDestination {
  region: string
  group: string
  /** `<awslogs-stream-prefix>/<container name>/<task id>` */
  stream: string
}

export interface ContainerSpec {
  name: string
  image: string
  essential: boolean
  entryPoint?: string[]
  command?: string[]
  environment: Record<string, string>
  workingDirectory?: string
  user?: string
  mounts: MountSpec[]
  portMappings: { containerPort: number; protocol: 'tcp' | 'udp' }[]
  logging?: LogDestination
  /** From SIGTERM to SIGKILL. */
  stopTimeoutMs: number
}

export interface TaskSpec {
  taskArn: string
  taskId: string
  family: string
  revision: number
  containers: ContainerSpec[]
}

export interface NetworkBinding {
  bindIP: string
  containerPort: number
  hostPort: number
  protocol: 'tcp' | 'udp'
}

export interface StartedContainer {
  name: string
  runtimeId: string
  imageDigest?: string
  networkBindings: NetworkBinding[]
}

/** A launch that failed before the task ran, with ECS's reason (e.g. CannotPullContainerError: ...). */
export class LaunchError extends Error {
  readonly containerName: string | undefined
  constructor(reason: string, containerName?: string) {
    super(reason)
    this.name = 'LaunchError'
    this.containerName = containerName
  }
}

/** Called by the runtime as things happen, so the scheduler and the monitor see them at once. */
export interface RuntimeEvents {
  pullStarted(taskArn: string): void
  pullStopped(taskArn: string): void
  /** Just before the runtime creates a container: from now on its volumes are in use. */
  containerCreated(taskArn: string, containerName: string): void
  containerStarted(taskArn: string, containerName: string): void
  containerExited(taskArn: string, containerName: string, exitCode: number | undefined, reason?: string): void
  log(destination: LogDestination, message: string, timestamp: number): void
}

export interface TaskRuntime {
  readonly kind: 'docker' | 'simulated'
  /** Pulls and starts every container; rejects with LaunchError when the task cannot start. */
  start(spec: TaskSpec): Promise<StartedContainer[]>
  /** SIGTERM to every container still running, SIGKILL after its stopTimeout; resolves once all have exited. */
  stop(taskArn: string): Promise<void>
  /** Fault injection: the task's essential containers die at once, as in a crash. */
  crash(taskArn: string): Promise<void>
  /** Runs a health check command in a container; true when it exits 0 within the timeout. */
  healthCheck(taskArn: string, containerName: string, command: string[], timeoutMs: number): Promise<boolean>
  /** Removes whatever is left of the task (exited containers, its network namespace). */
  remove(taskArn: string): Promise<void>
  /**
   * After a restart: which of these tasks still have live containers. Tasks not returned are gone.
   * Adopted tasks get their exit watching, logs and health checks back.
   */
  adopt(specs: TaskSpec[]): Promise<Map<string, StartedContainer[]>>
  /** Removes every container this runtime made and stops watching. */
  shutdown(): Promise<void>
}
