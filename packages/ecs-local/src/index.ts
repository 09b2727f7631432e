import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CallLog } from './calls.ts'
import { Scheduler } from './ecs/scheduler.ts'
import { initialEcsState, type EcsState, type TaskStatus } from './ecs/state.ts'
import { LoadBalancing, type FailOpenPeriod } from './elb/balancer.ts'
import { initialElbState, type ElbState, type TargetAddress } from './elb/state.ts'
import { Faults, type FaultConfig } from './faults.ts'
import { initialLogsState, LogStore, type LogsState } from './logs/store.ts'
import {
  initialMonitorState,
  InvariantMonitor,
  type MonitorState,
  type Overlap,
  type TaskLifetime,
} from './monitor.ts'
import { LocalRegistry, registryBinary } from './registry.ts'
import { dockerEngineAnswers } from './runtime/docker-cli.ts'
import { DockerRuntime } from './runtime/docker.ts'
import { inRegistry, localReference } from './runtime/images.ts'
import { SimulatedRuntime, type SimulatedRuntimeOptions } from './runtime/simulated.ts'
import type { TaskRuntime } from './runtime/types.ts'
import { createAwsServer, listen } from './server.ts'
import { ecrService, initialEcrState, type EcrState } from './services/ecr.ts'
import { ecsService } from './services/ecs.ts'
import { elbv2Service } from './services/elbv2.ts'
import { logsService } from './services/logs.ts'
import { stsService } from './services/sts.ts'
import { Store } from './state.ts'
import { resolveTimings, type Timings } from './timings.ts'

export { DEFAULT_TIMINGS, ZERO_TIMINGS, type Timings } from './timings.ts'
export type { FaultConfig } from './faults.ts'
export type { SimulatedImageBehaviour, SimulatedRuntimeOptions } from './runtime/simulated.ts'
export type { Overlap, TaskLifetime } from './monitor.ts'
export type { FailOpenPeriod } from './elb/balancer.ts'

export const ACCOUNT_ID = '123456789012'
export const DEFAULT_REGION = 'us-east-1'

export type RuntimeChoice = 'docker' | 'simulated' | 'auto'

export interface EcsLocalOptions {
  /** Port of the AWS endpoint; 0 picks a free one. */
  port?: number
  /** Where state, the registry's storage, EFS directories and logs live; without it, nothing survives a stop. */
  stateDir?: string
  /** Start the registry behind ECR (default: when docker-registry is installed). */
  registry?: boolean
  /** 'docker' runs real containers, 'simulated' timed state machines, 'auto' (default) Docker when an engine answers. */
  runtime?: RuntimeChoice
  /** Lifecycle durations; see timings.ts and the README. */
  timings?: Partial<Timings>
  /** How simulated containers behave, by image. */
  simulated?: SimulatedRuntimeOptions
  /** Values for task definitions' `secrets` (valueFrom → value); ecs-local has no Secrets Manager or SSM. */
  secrets?: Record<string, string>
  faults?: FaultConfig
  /** A JSON file holding any of these options; options given here win. */
  configFile?: string
}

export interface EcsLocalState {
  ecr: EcrState
  registryPassword: string
  /** Labels this state's containers, so a restart finds them. */
  home: string
  ecs: EcsState
  elb: ElbState
  logs: LogsState
  monitor: MonitorState
}

export interface TaskTimeline {
  taskArn: string
  taskId: string
  service?: string
  group: string
  taskDefinitionArn: string
  lastStatus: TaskStatus
  desiredStatus: string
  stoppedReason?: string
  stopCode?: string
  history: { status: TaskStatus; at: string }[]
  containers: { name: string; lastStatus: string; exitCode?: number; reason?: string }[]
}

export interface DeploymentHistory {
  service: string
  cluster: string
  status: string
  /** Current ones (PRIMARY, ACTIVE) and past ones (INACTIVE, which DescribeServices no longer lists), newest first. */
  deployments: {
    id: string
    status: string
    taskDefinition: string
    rolloutState: string
    rolloutStateReason: string
    failedTasks: number
    createdAt: string
    updatedAt: string
  }[]
}

/** What `GET /_ecs-local/report` answers. */
export interface EcsLocalReport {
  generatedAt: string
  runtime: 'docker' | 'simulated'
  /** Moments when two live tasks shared a volume: empty when every deploy was serialized. */
  overlaps: Overlap[]
  lifetimes: TaskLifetime[]
  timelines: TaskTimeline[]
  services: DeploymentHistory[]
  /** `{ caller: { "ecs:DescribeServices": 12, ... } }` */
  calls: Record<string, Record<string, number>>
  /**
   * Stretches of answers the load balancer gave from unhealthy targets (failing open, as an ALB
   * does when none is healthy): such an answer is not a healthy one. Each answer is also marked
   * with the header `x-ecs-local-routing: fail-open`.
   */
  failOpen: FailOpenPeriod[]
}

export interface EcsLocal {
  endpoint: string
  registryHost: string | undefined
  accountId: string
  region: string
  runtime: 'docker' | 'simulated'
  /** Where state, EFS directories and logs live (a temporary directory when no stateDir was given). */
  stateDir: string
  timings: Timings
  faults: Faults
  calls: CallLog
  monitor: InvariantMonitor
  report(): EcsLocalReport
  /** Adds values for `secrets` entries (valueFrom → value). */
  setSecrets(secrets: Record<string, string>): void
  /** Variables that point the AWS SDK (and so every action) at this endpoint. */
  awsEnv(region?: string): Record<string, string>
  /** Clean shutdown: removes every container, closes listeners, stops the registry, keeps the state. */
  stop(): Promise<void>
}

function readConfig(file: string): EcsLocalOptions {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EcsLocalOptions
  } catch (error) {
    throw new Error(`ecs-local could not read its config file ${file}: ${(error as Error).message}`)
  }
}

export async function startEcsLocal(given: EcsLocalOptions = {}): Promise<EcsLocal> {
  const fromFile = given.configFile ? readConfig(given.configFile) : {}
  const options: EcsLocalOptions = {
    ...fromFile,
    ...given,
    timings: { ...fromFile.timings, ...given.timings },
    secrets: { ...fromFile.secrets, ...given.secrets },
    ...(fromFile.faults || given.faults ? { faults: { ...fromFile.faults, ...given.faults } } : {}),
  }
  const timings = resolveTimings(options.timings)
  const workDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'ecs-local-'))
  mkdirSync(workDir, { recursive: true })
  const store = new Store<EcsLocalState>(
    options.stateDir ? join(options.stateDir, 'state.json') : undefined,
    () => ({
      ecr: initialEcrState(),
      registryPassword: randomBytes(24).toString('base64url'),
      home: randomBytes(8).toString('hex'),
      ecs: initialEcsState(),
      elb: initialElbState(),
      logs: initialLogsState(),
      monitor: initialMonitorState(),
    }),
  )
  const calls = new CallLog()
  const faults = new Faults()
  if (options.faults) faults.set(options.faults)
  const secrets: Record<string, string> = { ...options.secrets }
  const monitor = new InvariantMonitor(store)
  const logs = new LogStore(
    store,
    options.stateDir ? join(options.stateDir, 'logs', 'events.jsonl') : undefined,
  )
  const elb = new LoadBalancing(
    store,
    timings,
    () => scheduler.kick(),
    (at) => scheduler.wakeAt(at),
  )
  const scheduler: Scheduler = new Scheduler({
    store,
    elb,
    logs,
    monitor,
    faults,
    timings,
    workDir,
    accountId: ACCOUNT_ID,
    secrets: () => secrets,
  })

  const choice = options.runtime ?? 'auto'
  const useDocker = choice === 'docker' || (choice === 'auto' && dockerEngineAnswers())
  const wantRegistry = options.registry ?? registryBinary() !== undefined
  const registry = wantRegistry
    ? await LocalRegistry.start({ dir: join(workDir, 'registry'), password: store.data.registryPassword })
    : undefined

  /** Simulated tasks pull nothing, but an image under the registry's host must have been pushed. */
  const registryHas = async (image: string): Promise<boolean | undefined> => {
    if (!registry) return undefined
    const found = inRegistry(localReference(image, registry.host), registry.host)
    if (!found) return undefined
    return registry.manifest(found.repository, found.reference).then(
      (manifest) => manifest !== undefined,
      () => undefined,
    )
  }

  let runtime: TaskRuntime
  try {
    runtime = useDocker
      ? await DockerRuntime.create(
          {
            home: store.data.home,
            workDir,
            registry: () => (registry ? { host: registry.host, password: registry.password } : undefined),
          },
          scheduler,
        )
      : new SimulatedRuntime({ imageAvailable: registryHas, ...options.simulated }, scheduler)
  } catch (error) {
    registry?.stop()
    throw error
  }
  scheduler.runtime = runtime
  await scheduler.restore()
  await elb.openAll()

  /** A task's private address (awsvpc) → where its ports really are, for targets registered by hand. */
  const addressOf = (id: string): TargetAddress | undefined => {
    const task = Object.values(store.data.ecs.tasks).find(
      (t) => t.privateIp === id && t.lastStatus !== 'STOPPED',
    )
    if (!task) return undefined
    const ports: Record<string, number> = {}
    for (const c of task.containers)
      for (const b of c.networkBindings) ports[String(b.containerPort)] = b.hostPort
    return { host: '127.0.0.1', ports }
  }

  const report = (): EcsLocalReport => ({
    generatedAt: new Date().toISOString(),
    runtime: runtime.kind,
    overlaps: monitor.overlaps(),
    lifetimes: monitor.lifetimes(),
    timelines: Object.values(store.data.ecs.tasks)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((t) => {
        const service = t.serviceArn ? store.data.ecs.services[t.serviceArn]?.name : undefined
        return {
          taskArn: t.arn,
          taskId: t.id,
          ...(service ? { service } : {}),
          group: t.group,
          taskDefinitionArn: t.taskDefinitionArn,
          lastStatus: t.lastStatus,
          desiredStatus: t.desiredStatus,
          ...(t.stoppedReason ? { stoppedReason: t.stoppedReason } : {}),
          ...(t.stopCode ? { stopCode: t.stopCode } : {}),
          history: t.history.map((h) => ({ status: h.status, at: new Date(h.at).toISOString() })),
          containers: t.containers.map((c) => ({
            name: c.name,
            lastStatus: c.lastStatus,
            ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
            ...(c.reason ? { reason: c.reason } : {}),
          })),
        }
      }),
    services: Object.values(store.data.ecs.services).map((s) => ({
      service: s.name,
      cluster: s.clusterArn.split('/').pop() as string,
      status: s.status,
      deployments: [...s.deployments, ...s.pastDeployments].map((d) => ({
        id: d.id,
        status: d.status,
        taskDefinition: d.taskDefinition,
        rolloutState: d.rolloutState,
        rolloutStateReason: d.rolloutStateReason,
        failedTasks: d.failedTasks,
        createdAt: new Date(d.createdAt).toISOString(),
        updatedAt: new Date(d.updatedAt).toISOString(),
      })),
    })),
    calls: calls.byCaller(),
    failOpen: elb.failOpenPeriods(),
  })

  const server: Server = createAwsServer({
    services: [
      stsService(),
      ecrService(store, () => registry),
      ecsService(store, scheduler, elb),
      elbv2Service(store, elb, addressOf),
      logsService(logs),
    ],
    accountId: ACCOUNT_ID,
    defaultRegion: DEFAULT_REGION,
    calls,
    faults,
    control: async (method, path, body) => {
      if (path === '/health') return { status: 200, body: { ok: true, runtime: runtime.kind } }
      if (path === '/faults' && method === 'POST') {
        faults.set(JSON.parse(body || '{}') as FaultConfig)
        return { status: 200, body: faults.config }
      }
      if (path === '/faults') return { status: 200, body: faults.config }
      if (path === '/secrets' && method === 'POST') {
        Object.assign(secrets, JSON.parse(body || '{}') as Record<string, string>)
        return { status: 200, body: { names: Object.keys(secrets) } }
      }
      if (path === '/report') return { status: 200, body: report() }
      return { status: 404, body: { message: `no control endpoint ${method} ${path}` } }
    },
  })
  let port: number
  try {
    port = await listen(server, options.port ?? 0)
  } catch (error) {
    await scheduler.shutdown()
    await elb.stop()
    registry?.stop()
    throw error
  }
  scheduler.start()
  store.flush()
  const endpoint = `http://127.0.0.1:${port}`

  return {
    endpoint,
    registryHost: registry?.host,
    accountId: ACCOUNT_ID,
    region: DEFAULT_REGION,
    runtime: runtime.kind,
    stateDir: workDir,
    timings,
    faults,
    calls,
    monitor,
    report,
    setSecrets: (more) => Object.assign(secrets, more),
    awsEnv: (region = DEFAULT_REGION) => ({
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'AKIAECSLOCAL00000000',
      AWS_SECRET_ACCESS_KEY: 'ecs-local-secret-key-not-a-real-one',
    }),
    async stop() {
      await scheduler.shutdown()
      await elb.stop()
      store.flush()
      registry?.stop()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
      if (!options.stateDir) rmSync(workDir, { recursive: true, force: true })
    },
  }
}
