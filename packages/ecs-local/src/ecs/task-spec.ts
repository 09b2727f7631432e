import { mkdirSync } from 'node:fs'
import { join, normalize } from 'node:path'
import type { VolumeUse } from '../monitor.ts'
import { LaunchError, type ContainerSpec, type MountSpec, type TaskSpec } from '../runtime/types.ts'
import { awsSeconds, type Timings } from '../timings.ts'
import type { HealthCheckConfig, TaskRecord } from './state.ts'

/** The parts of a container definition ecs-local acts on. */
export interface ContainerDefinition {
  name: string
  image: string
  essential?: boolean
  entryPoint?: string[]
  command?: string[]
  environment?: { name?: string; value?: string }[]
  secrets?: { name: string; valueFrom: string }[]
  workingDirectory?: string
  user?: string
  mountPoints?: { sourceVolume?: string; containerPath?: string; readOnly?: boolean }[]
  portMappings?: { containerPort?: number; hostPort?: number; protocol?: string }[]
  healthCheck?: {
    command?: string[]
    interval?: number
    timeout?: number
    retries?: number
    startPeriod?: number
  }
  logConfiguration?: { logDriver?: string; options?: Record<string, string> }
  stopTimeout?: number
}

export interface VolumeDefinition {
  name: string
  host?: { sourcePath?: string }
  efsVolumeConfiguration?: {
    fileSystemId: string
    rootDirectory?: string
    authorizationConfig?: { accessPointId?: string }
  }
  dockerVolumeConfiguration?: { scope?: string }
}

export interface ContainerOverride {
  name?: string
  command?: string[]
  environment?: { name?: string; value?: string }[]
}

export function containerDefinitions(definition: Record<string, unknown>): ContainerDefinition[] {
  return (definition.containerDefinitions as ContainerDefinition[] | undefined) ?? []
}

export function healthCheckOf(container: ContainerDefinition): HealthCheckConfig | undefined {
  const hc = container.healthCheck
  if (!hc?.command || hc.command.length === 0) return undefined
  return {
    command: hc.command,
    intervalSeconds: hc.interval ?? 30,
    timeoutSeconds: hc.timeout ?? 5,
    retries: hc.retries ?? 3,
    startPeriodSeconds: hc.startPeriod ?? 0,
  }
}

/**
 * A `secrets` entry's value. ecs-local has no Secrets Manager or SSM: values come from the map
 * given to startEcsLocal (`secrets`), keyed by the exact valueFrom, or by the secret's or
 * parameter's name. `arn:...:secret:name:jsonKey::` picks a key of a JSON value, as ECS does.
 */
export function resolveSecret(valueFrom: string, secrets: Record<string, string>): string | undefined {
  if (valueFrom in secrets) return secrets[valueFrom]
  const sm = /^(arn:aws[\w-]*:secretsmanager:[\w-]+:\d+:secret:([^:]+))(?::([^:]*))?(?::[^:]*){0,2}$/.exec(
    valueFrom,
  )
  if (sm) {
    const [, base, name, jsonKey] = sm as unknown as [string, string, string, string | undefined]
    const withoutSuffix = name.replace(/-[A-Za-z0-9]{6}$/, '')
    const value = secrets[base] ?? secrets[name] ?? secrets[withoutSuffix]
    if (value === undefined || !jsonKey) return value
    try {
      const field = (JSON.parse(value) as Record<string, unknown>)[jsonKey]
      return field === undefined ? undefined : String(field)
    } catch {
      return undefined
    }
  }
  const ssm = /^arn:aws[\w-]*:ssm:[\w-]+:\d+:parameter(\/.+)$/.exec(valueFrom)
  if (ssm) {
    const name = ssm[1] as string
    return secrets[name] ?? secrets[name.slice(1)]
  }
  return secrets[`/${valueFrom}`]
}

function secretError(valueFrom: string): LaunchError {
  if (valueFrom.includes(':ssm:') || !valueFrom.startsWith('arn:')) {
    return new LaunchError(
      `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm parameters: ${valueFrom}`,
    )
  }
  return new LaunchError(
    `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${valueFrom} from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified secret.`,
  )
}

interface ResolvedVolume {
  hostPath: string
  use?: VolumeUse
}

/** Where a task definition volume lives on this machine; EFS file systems are shared directories. */
function resolveVolume(volume: VolumeDefinition, workDir: string, taskId: string): ResolvedVolume {
  const efs = volume.efsVolumeConfiguration
  if (efs) {
    const accessPoint = efs.authorizationConfig?.accessPointId
    const root = normalize(`/${efs.rootDirectory ?? '/'}`)
    const hostPath = join(
      workDir,
      'efs',
      efs.fileSystemId,
      accessPoint ? join('access-points', accessPoint) : '',
      root,
    )
    mkdirSync(hostPath, { recursive: true })
    const name = `efs:${efs.fileSystemId}${accessPoint ? `:${accessPoint}` : ''}:${root}`
    return { hostPath, use: { volume: name, hostPath } }
  }
  if (volume.host?.sourcePath) {
    mkdirSync(volume.host.sourcePath, { recursive: true })
    return {
      hostPath: volume.host.sourcePath,
      use: { volume: `host:${volume.host.sourcePath}`, hostPath: volume.host.sourcePath },
    }
  }
  if (volume.dockerVolumeConfiguration?.scope === 'shared') {
    const hostPath = join(workDir, 'docker-volumes', volume.name)
    mkdirSync(hostPath, { recursive: true })
    return { hostPath, use: { volume: `docker:${volume.name}`, hostPath } }
  }
  // A task-scoped volume: an empty directory only this task's containers see.
  const hostPath = join(workDir, 'task-volumes', taskId, volume.name)
  mkdirSync(hostPath, { recursive: true })
  return { hostPath }
}

export interface BuiltTask {
  spec: TaskSpec
  volumes: VolumeUse[]
  /** awslogs groups the containers write to, with whether the task may create them. */
  logGroups: { region: string; group: string; create: boolean }[]
}

/** Turns a task (its definition and overrides) into what a runtime starts. Throws LaunchError. */
export function buildTaskSpec(
  task: TaskRecord,
  definition: Record<string, unknown>,
  family: string,
  revision: number,
  options: { workDir: string; secrets: Record<string, string>; timings: Timings },
): BuiltTask {
  const volumeDefs = (definition.volumes as VolumeDefinition[] | undefined) ?? []
  const resolved = new Map<string, ResolvedVolume>()
  const uses: VolumeUse[] = []
  const overrides = ((task.overrides.containerOverrides as ContainerOverride[] | undefined) ?? []).filter(
    (o) => o.name,
  )
  const logGroups: BuiltTask['logGroups'] = []
  const containers: ContainerSpec[] = containerDefinitions(definition).map((def) => {
    const override = overrides.find((o) => o.name === def.name)
    const environment: Record<string, string> = {}
    for (const { name, value } of [...(def.environment ?? []), ...(override?.environment ?? [])]) {
      if (name) environment[name] = value ?? ''
    }
    for (const secret of def.secrets ?? []) {
      const value = resolveSecret(secret.valueFrom, options.secrets)
      if (value === undefined) throw secretError(secret.valueFrom)
      environment[secret.name] = value
    }
    const mounts: MountSpec[] = []
    for (const mount of def.mountPoints ?? []) {
      const volume = volumeDefs.find((v) => v.name === mount.sourceVolume)
      if (!volume || !mount.containerPath) continue
      let place = resolved.get(volume.name)
      if (!place) {
        place = resolveVolume(volume, options.workDir, task.id)
        resolved.set(volume.name, place)
        if (place.use) uses.push(place.use)
      }
      mounts.push({
        hostPath: place.hostPath,
        containerPath: mount.containerPath,
        readOnly: mount.readOnly === true,
        shared: place.use !== undefined,
      })
    }
    const log = def.logConfiguration
    let logging: ContainerSpec['logging']
    if (log?.logDriver === 'awslogs' && log.options?.['awslogs-group']) {
      const region = log.options['awslogs-region'] ?? task.region
      const group = log.options['awslogs-group']
      const prefix = log.options['awslogs-stream-prefix']
      logging = {
        region,
        group,
        stream: prefix ? `${prefix}/${def.name}/${task.id}` : `${def.name}/${task.id}`,
      }
      logGroups.push({ region, group, create: log.options['awslogs-create-group'] === 'true' })
    }
    return {
      name: def.name,
      image: def.image,
      essential: def.essential !== false,
      ...(def.entryPoint?.length ? { entryPoint: def.entryPoint } : {}),
      ...(override?.command?.length
        ? { command: override.command }
        : def.command?.length
          ? { command: def.command }
          : {}),
      environment,
      ...(def.workingDirectory ? { workingDirectory: def.workingDirectory } : {}),
      ...(def.user ? { user: def.user } : {}),
      mounts,
      portMappings: (def.portMappings ?? []).flatMap((p) =>
        p.containerPort
          ? [{ containerPort: p.containerPort, protocol: p.protocol === 'udp' ? 'udp' : 'tcp' }]
          : [],
      ) as ContainerSpec['portMappings'],
      ...(logging ? { logging } : {}),
      stopTimeoutMs: awsSeconds(options.timings, def.stopTimeout ?? 30),
    }
  })
  return {
    spec: { taskArn: task.arn, taskId: task.id, family, revision, containers },
    volumes: uses,
    logGroups,
  }
}
