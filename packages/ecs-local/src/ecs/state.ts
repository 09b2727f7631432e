import type { NetworkBinding } from '../runtime/types.ts'

/** ECS's resources as ecs-local keeps them (times are epoch ms). The API shapes are made from these. */

export interface Tag {
  key: string
  value: string
}

export interface ClusterRecord {
  arn: string
  name: string
  region: string
  status: 'ACTIVE' | 'INACTIVE'
  createdAt: number
  settings: { name: string; value: string }[]
}

export interface TaskDefinitionRecord {
  arn: string
  family: string
  revision: number
  region: string
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS'
  registeredAt: number
  registeredBy: string
  deregisteredAt?: number
  /** What the caller registered, with the defaults ECS fills in, minus the read-only fields. */
  definition: Record<string, unknown>
}

export interface ServiceEvent {
  id: string
  createdAt: number
  message: string
}

export type RolloutState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED'

export interface DeploymentRecord {
  id: string
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE'
  taskDefinition: string
  /** For the PRIMARY deployment the service's desiredCount; older ones shrink as their tasks stop. */
  desiredCount: number
  failedTasks: number
  createdAt: number
  updatedAt: number
  rolloutState: RolloutState
  rolloutStateReason: string
  launchType?: string
  networkConfiguration?: unknown
  /** Said "is unable to consistently start tasks" already. */
  warnedUnableToStart?: boolean
}

export interface LoadBalancerBinding {
  targetGroupArn?: string
  loadBalancerName?: string
  containerName: string
  containerPort: number
}

export interface DeploymentConfiguration {
  deploymentCircuitBreaker: { enable: boolean; rollback: boolean }
  maximumPercent: number
  minimumHealthyPercent: number
}

export interface ServiceRecord {
  arn: string
  name: string
  clusterArn: string
  region: string
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE'
  desiredCount: number
  taskDefinition: string
  launchType?: string
  platformVersion?: string
  deploymentConfiguration: DeploymentConfiguration
  loadBalancers: LoadBalancerBinding[]
  networkConfiguration?: unknown
  healthCheckGracePeriodSeconds?: number
  schedulingStrategy: 'REPLICA'
  propagateTags?: string
  enableECSManagedTags: boolean
  enableExecuteCommand: boolean
  createdAt: number
  createdBy: string
  deletedAt?: number
  /** PRIMARY first, then ACTIVE ones, newest first. */
  deployments: DeploymentRecord[]
  /** Deployments that became INACTIVE (ECS no longer lists them), newest first, for the report. */
  pastDeployments: DeploymentRecord[]
  /** The deployment a circuit-breaker rollback returns to. */
  lastCompleted?: { id: string; taskDefinition: string }
  /** Newest first, at most 100. */
  events: ServiceEvent[]
  /** "has reached a steady state" was said and nothing changed since. */
  steady: boolean
  consecutiveLaunchFailures: number
  nextLaunchAt?: number
}

export type TaskStatus =
  | 'PROVISIONING'
  | 'PENDING'
  | 'ACTIVATING'
  | 'RUNNING'
  | 'DEACTIVATING'
  | 'STOPPING'
  | 'DEPROVISIONING'
  | 'STOPPED'

export const TASK_STATUSES: readonly TaskStatus[] = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
]

export type StopCode =
  'TaskFailedToStart' | 'EssentialContainerExited' | 'UserInitiated' | 'ServiceSchedulerInitiated'

export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN'

export interface HealthCheckConfig {
  command: string[]
  intervalSeconds: number
  timeoutSeconds: number
  retries: number
  startPeriodSeconds: number
}

export interface ContainerRecord {
  name: string
  arn: string
  image: string
  essential: boolean
  imageDigest?: string
  runtimeId?: string
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED'
  exitCode?: number
  reason?: string
  healthStatus?: HealthStatus
  healthCheck?: HealthCheckConfig
  networkBindings: NetworkBinding[]
  startedAt?: number
  /** Health check bookkeeping (Docker's semantics). */
  health?: { failures: number; nextCheckAt: number; lastOutput?: string }
}

export interface RegisteredTarget {
  targetGroupArn: string
  id: string
  port: number
  containerName: string
}

export interface TaskRecord {
  arn: string
  id: string
  region: string
  clusterArn: string
  taskDefinitionArn: string
  group: string
  startedBy?: string
  /** Service tasks: the service's ARN and the deployment that started the task. */
  serviceArn?: string
  deploymentId?: string
  launchType: string
  cpu?: string
  memory?: string
  overrides: Record<string, unknown>
  networkConfiguration?: unknown
  /** awsvpc: a private address only ecs-local's load balancer understands (see README). */
  privateIp: string
  lastStatus: TaskStatus
  desiredStatus: 'RUNNING' | 'STOPPED'
  healthStatus: HealthStatus
  createdAt: number
  statusSince: number
  pullStartedAt?: number
  pullStoppedAt?: number
  connectivityAt?: number
  startedAt?: number
  stoppingAt?: number
  executionStoppedAt?: number
  stoppedAt?: number
  stoppedReason?: string
  stopCode?: StopCode
  containers: ContainerRecord[]
  targets: RegisteredTarget[]
  /** When DEACTIVATING ends at the latest: the longest deregistration delay of its target groups. */
  deactivateUntil?: number
  /** The targets it is draining from while DEACTIVATING; it ends early once none is draining. */
  drainingTargets?: RegisteredTarget[]
  /** First time the scheduler counted the task healthy (for minimumHealthyPercent and rollouts). */
  healthyAt?: number
  /** Fault injection (crashAfterSeconds when the task was created): its essential containers die this long after RUNNING. */
  crashAfterMs?: number
  crashAt?: number
  /** The scheduler stopped it: say "has stopped 1 running tasks" when it reaches STOPPING. */
  announceStop?: boolean
  /** Counted as a failed launch of its deployment (circuit breaker). */
  countedAsFailure?: boolean
  version: number
  history: { status: TaskStatus; at: number }[]
}

export interface EcsState {
  clusters: Record<string, ClusterRecord>
  taskDefinitions: Record<string, TaskDefinitionRecord>
  /** `<region>/<family>` → last revision number ever registered (revisions are never reused). */
  families: Record<string, number>
  services: Record<string, ServiceRecord>
  tasks: Record<string, TaskRecord>
  tags: Record<string, Tag[]>
}

export function initialEcsState(): EcsState {
  return { clusters: {}, taskDefinitions: {}, families: {}, services: {}, tasks: {}, tags: {} }
}

/** A task that counts toward maximumPercent: RUNNING or on its way there, and not being stopped. */
export function isLive(task: TaskRecord): boolean {
  return (
    task.desiredStatus === 'RUNNING' &&
    (task.lastStatus === 'PROVISIONING' ||
      task.lastStatus === 'PENDING' ||
      task.lastStatus === 'ACTIVATING' ||
      task.lastStatus === 'RUNNING')
  )
}

export function isPendingStatus(status: TaskStatus): boolean {
  return status === 'PROVISIONING' || status === 'PENDING' || status === 'ACTIVATING'
}
