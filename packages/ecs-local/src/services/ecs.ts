import { isDeepStrictEqual } from 'node:util'
import type { LoadBalancing } from '../elb/balancer.ts'
import { AwsError, clientException, invalidParameter } from '../errors.ts'
import { startDeployment } from '../ecs/deployments.ts'
import { presentCluster, presentService, presentTask, presentTaskDefinition, tagsOf } from '../ecs/present.ts'
import type { Scheduler } from '../ecs/scheduler.ts'
import type {
  ClusterRecord,
  DeploymentConfiguration,
  EcsState,
  LoadBalancerBinding,
  ServiceRecord,
  Tag,
  TaskDefinitionRecord,
  TaskRecord,
} from '../ecs/state.ts'
import { containerDefinitions } from '../ecs/task-spec.ts'
import { ecsArn, parseArn } from '../ids.ts'
import type { CallContext, ServiceDefinition } from '../service.ts'
import type { Store } from '../state.ts'

/** Fields DescribeTaskDefinition returns that RegisterTaskDefinition must not be given. */
export const READ_ONLY_FIELDS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
  'deleteRequestedAt',
]

const REGISTER_FIELDS = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'tags',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
]

const FAMILY = /^[a-zA-Z0-9_-]{1,255}$/

const clusterNotFound = () => new AwsError('ClusterNotFoundException', 'Cluster not found.')
const serviceNotFound = () => new AwsError('ServiceNotFoundException', 'Service not found.')
const unknownTaskDefinition = () => clientException('Unable to describe task definition.')

interface Page<T> {
  items: T[]
  nextToken?: string
}

function paginate<T>(
  items: T[],
  maxResults: unknown,
  nextToken: unknown,
  defaultMax: number,
  limit = 100,
): Page<T> {
  const max = maxResults === undefined ? defaultMax : Number(maxResults)
  if (!Number.isInteger(max) || max < 1 || max > limit) {
    throw invalidParameter(`maxResults must be between 1 and ${limit}.`)
  }
  let start = 0
  if (typeof nextToken === 'string' && nextToken) {
    start = Number(Buffer.from(nextToken, 'base64url').toString())
    if (!Number.isInteger(start) || start < 0) throw invalidParameter('Invalid nextToken.')
  }
  const page = items.slice(start, start + max)
  return start + max < items.length
    ? { items: page, nextToken: Buffer.from(String(start + max)).toString('base64url') }
    : { items: page }
}

function toTags(input: unknown): Tag[] {
  return ((input as { key?: string; value?: string }[] | undefined) ?? []).flatMap((t) =>
    t.key ? [{ key: t.key, value: t.value ?? '' }] : [],
  )
}

/** The defaults ECS writes into a registered container definition (the caller's values win). */
function withContainerDefaults(
  container: Record<string, unknown>,
  networkMode: unknown,
): Record<string, unknown> {
  const portMappings = (container.portMappings as Record<string, unknown>[] | undefined)?.map((p) => ({
    ...p,
    ...(networkMode === 'awsvpc' && p.hostPort === undefined ? { hostPort: p.containerPort } : {}),
    protocol: p.protocol ?? 'tcp',
  }))
  return {
    cpu: 0,
    portMappings: [],
    essential: true,
    environment: [],
    mountPoints: [],
    volumesFrom: [],
    systemControls: [],
    ...container,
    ...(portMappings ? { portMappings } : {}),
  }
}

export function ecsService(
  store: Store<{ ecs: EcsState }>,
  scheduler: Scheduler,
  elb: LoadBalancing,
): ServiceDefinition {
  const state = () => store.data.ecs

  function findCluster(ctx: CallContext, ref: unknown): ClusterRecord {
    const name = typeof ref === 'string' && ref ? ref : 'default'
    const arn = name.startsWith('arn:') ? name : ecsArn(ctx.region, ctx.accountId, `cluster/${name}`)
    const cluster = state().clusters[arn]
    if (!cluster || cluster.status !== 'ACTIVE') throw clusterNotFound()
    return cluster
  }

  function serviceArnOf(cluster: ClusterRecord, ref: string): string {
    if (ref.startsWith('arn:')) {
      const resource = parseArn(ref)?.resource ?? ''
      const parts = resource.split('/')
      // Old short ARNs (service/name) name no cluster.
      return parts.length === 2
        ? ecsArn(cluster.region, parseArn(cluster.arn)?.account ?? '', `service/${cluster.name}/${parts[1]}`)
        : ref
    }
    return cluster.arn.replace(':cluster/', ':service/') + `/${ref}`
  }

  function findService(cluster: ClusterRecord, ref: unknown): ServiceRecord | undefined {
    if (typeof ref !== 'string' || !ref) return undefined
    const service = state().services[serviceArnOf(cluster, ref)]
    return service && service.clusterArn === cluster.arn ? service : undefined
  }

  function findTaskDefinition(ctx: CallContext, ref: unknown): TaskDefinitionRecord | undefined {
    if (typeof ref !== 'string' || !ref) return undefined
    if (ref.startsWith('arn:')) return state().taskDefinitions[ref]
    const [family, revision] = ref.split(':')
    if (revision !== undefined) {
      return state().taskDefinitions[
        ecsArn(ctx.region, ctx.accountId, `task-definition/${family}:${revision}`)
      ]
    }
    // A family alone means its latest ACTIVE revision.
    return Object.values(state().taskDefinitions)
      .filter((td) => td.region === ctx.region && td.family === family && td.status === 'ACTIVE')
      .sort((a, b) => b.revision - a.revision)[0]
  }

  /** A revision a new deployment or task can use. */
  function deployable(ctx: CallContext, ref: unknown, inactive: AwsError): TaskDefinitionRecord {
    const td = findTaskDefinition(ctx, ref)
    if (!td) throw invalidParameter('Unable to describe task definition.')
    if (td.status !== 'ACTIVE') throw inactive
    return td
  }

  function requireNetworkConfiguration(td: TaskDefinitionRecord, networkConfiguration: unknown): void {
    if (td.definition.networkMode !== 'awsvpc') return
    const subnets = (networkConfiguration as { awsvpcConfiguration?: { subnets?: string[] } } | undefined)
      ?.awsvpcConfiguration?.subnets
    if (!networkConfiguration) {
      throw invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    }
    if (!subnets || subnets.length === 0) throw invalidParameter('subnets can not be empty.')
  }

  function checkDesiredCount(value: unknown): void {
    if (value === undefined) return
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw invalidParameter('Invalid desiredCount: it must be a whole number of tasks, 0 or more.')
    }
  }

  function validateLoadBalancers(td: TaskDefinitionRecord, loadBalancers: LoadBalancerBinding[]): void {
    for (const lb of loadBalancers) {
      if (!lb.targetGroupArn)
        throw invalidParameter('targetGroupArn must be specified for an Application Load Balancer.')
      const group = elb.targetGroup(lb.targetGroupArn)
      if (!group) {
        throw invalidParameter(
          'Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.',
        )
      }
      if (elb.loadBalancersOf(lb.targetGroupArn).length === 0) {
        throw invalidParameter(
          `The target group with targetGroupArn ${lb.targetGroupArn} does not have an associated load balancer.`,
        )
      }
      if (td.definition.networkMode === 'awsvpc' && group.targetType === 'instance') {
        throw invalidParameter(
          `The provided target group ${lb.targetGroupArn} has target type instance, which is incompatible with the awsvpc network mode specified in the task definition.`,
        )
      }
      const container = containerDefinitions(td.definition).find((c) => c.name === lb.containerName)
      if (!container?.portMappings?.some((p) => p.containerPort === lb.containerPort)) {
        throw invalidParameter(
          `The container ${lb.containerName} did not have a container port ${lb.containerPort} defined.`,
        )
      }
    }
  }

  function deploymentConfiguration(input: unknown, base?: DeploymentConfiguration): DeploymentConfiguration {
    const given = (input ?? {}) as Partial<DeploymentConfiguration> & {
      deploymentCircuitBreaker?: Partial<DeploymentConfiguration['deploymentCircuitBreaker']>
    }
    const config: DeploymentConfiguration = {
      deploymentCircuitBreaker: {
        enable: given.deploymentCircuitBreaker?.enable ?? base?.deploymentCircuitBreaker.enable ?? false,
        rollback:
          given.deploymentCircuitBreaker?.rollback ?? base?.deploymentCircuitBreaker.rollback ?? false,
      },
      maximumPercent: given.maximumPercent ?? base?.maximumPercent ?? 200,
      minimumHealthyPercent: given.minimumHealthyPercent ?? base?.minimumHealthyPercent ?? 100,
    }
    if (config.minimumHealthyPercent < 0 || config.minimumHealthyPercent > 100) {
      throw invalidParameter('minimumHealthyPercent must be between 0 and 100.')
    }
    if (config.maximumPercent < 100) {
      throw invalidParameter(
        'maximumPercent must be at least 100 for services using the REPLICA scheduling strategy.',
      )
    }
    return config
  }

  function findTask(cluster: ClusterRecord, ref: string): TaskRecord | undefined {
    const arn = ref.startsWith('arn:') ? ref : `${cluster.arn.replace(':cluster/', ':task/')}/${ref}`
    const task = state().tasks[arn]
    return task && task.clusterArn === cluster.arn ? task : undefined
  }

  function resourceExists(arn: string): void {
    const parsed = parseArn(arn)
    if (!parsed || parsed.service !== 'ecs') throw invalidParameter('The ARN provided is invalid.')
    const kind = parsed.resource.split('/')[0]
    const s = state()
    if (kind === 'cluster' && s.clusters[arn]?.status !== 'ACTIVE') throw clusterNotFound()
    if (kind === 'service' && !s.services[arn]) throw serviceNotFound()
    if (kind === 'task-definition' && !s.taskDefinitions[arn]) throw unknownTaskDefinition()
    if (kind === 'task' && !s.tasks[arn])
      throw new AwsError('ResourceNotFoundException', 'The specified task was not found.')
    if (!['cluster', 'service', 'task-definition', 'task'].includes(kind ?? '')) {
      throw invalidParameter('The ARN provided is invalid.')
    }
  }

  function changed(): void {
    store.changed()
    scheduler.kick()
  }

  return {
    name: 'ecs',
    protocol: 'json',
    jsonTarget: 'AmazonEC2ContainerServiceV20141113',
    operations: {
      CreateCluster: (
        input: { clusterName?: string; tags?: unknown; settings?: { name: string; value: string }[] },
        ctx,
      ) => {
        const name = input.clusterName || 'default'
        if (!/^[a-zA-Z0-9_-]{1,255}$/.test(name)) {
          throw invalidParameter(
            'Cluster name can only contain letters, numbers, hyphens and underscores, up to 255.',
          )
        }
        const arn = ecsArn(ctx.region, ctx.accountId, `cluster/${name}`)
        const existing = state().clusters[arn]
        if (existing?.status === 'ACTIVE') return { cluster: presentCluster(state(), existing) }
        const cluster: ClusterRecord = {
          arn,
          name,
          region: ctx.region,
          status: 'ACTIVE',
          createdAt: Date.now(),
          settings: input.settings ?? [{ name: 'containerInsights', value: 'disabled' }],
        }
        state().clusters[arn] = cluster
        const tags = toTags(input.tags)
        if (tags.length) state().tags[arn] = tags
        changed()
        return { cluster: presentCluster(state(), cluster, ['TAGS', 'SETTINGS']) }
      },

      DescribeClusters: (input: { clusters?: string[]; include?: string[] }, ctx) => {
        const clusters = []
        const failures = []
        for (const ref of input.clusters?.length ? input.clusters : ['default']) {
          const arn = ref.startsWith('arn:') ? ref : ecsArn(ctx.region, ctx.accountId, `cluster/${ref}`)
          const cluster = state().clusters[arn]
          if (cluster) clusters.push(presentCluster(state(), cluster, input.include))
          else failures.push({ arn, reason: 'MISSING' })
        }
        return { clusters, failures }
      },

      ListClusters: (input: { maxResults?: number; nextToken?: string }, ctx) => {
        const arns = Object.values(state().clusters)
          .filter((c) => c.region === ctx.region && c.status === 'ACTIVE')
          .map((c) => c.arn)
        const page = paginate(arns, input.maxResults, input.nextToken, 100)
        return { clusterArns: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) }
      },

      DeleteCluster: (input: { cluster?: string }, ctx) => {
        const cluster = findCluster(ctx, input.cluster)
        const s = state()
        if (
          Object.values(s.services).some((sv) => sv.clusterArn === cluster.arn && sv.status !== 'INACTIVE')
        ) {
          throw new AwsError(
            'ClusterContainsServicesException',
            'The Cluster cannot be deleted while Services are active.',
          )
        }
        if (Object.values(s.tasks).some((t) => t.clusterArn === cluster.arn && t.lastStatus !== 'STOPPED')) {
          throw new AwsError(
            'ClusterContainsTasksException',
            'The Cluster cannot be deleted while Tasks are active.',
          )
        }
        cluster.status = 'INACTIVE'
        changed()
        return { cluster: presentCluster(s, cluster) }
      },

      RegisterTaskDefinition: (input: Record<string, unknown>, ctx) => {
        const readOnly = Object.keys(input).find((key) => READ_ONLY_FIELDS.includes(key))
        if (readOnly) {
          throw clientException(
            `Unknown parameter in input: "${readOnly}", must be one of: ${REGISTER_FIELDS.join(', ')}`,
          )
        }
        const family = input.family
        if (typeof family !== 'string' || !FAMILY.test(family)) {
          throw clientException(
            'Family contains invalid characters or is too long: up to 255 letters (uppercase and lowercase), numbers, underscores and hyphens are allowed.',
          )
        }
        const containers = input.containerDefinitions as Record<string, unknown>[] | undefined
        if (!Array.isArray(containers) || containers.length === 0) {
          throw clientException('Container list cannot be empty.')
        }
        for (const c of containers) {
          if (!c.name) throw clientException('Container.name should not be null or empty.')
          if (!c.image) throw clientException('Container.image should not be null or empty.')
        }
        const fargate = (input.requiresCompatibilities as string[] | undefined)?.includes('FARGATE')
        if (fargate) {
          if (input.networkMode !== 'awsvpc')
            throw clientException("Fargate only supports network mode 'awsvpc'.")
          if (!input.cpu) throw clientException("Fargate requires that 'cpu' be defined at the task level.")
          if (!input.memory)
            throw clientException("Fargate requires that 'memory' be defined at the task level.")
        } else if (!input.memory) {
          const without = containers.find((c) => c.memory === undefined && c.memoryReservation === undefined)
          if (without) {
            throw clientException(
              `Invalid setting for container '${String(without.name)}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
            )
          }
        }
        const { tags, ...rest } = input
        const definition: Record<string, unknown> = {
          ...rest,
          containerDefinitions: containers.map((c) => withContainerDefaults(c, input.networkMode)),
          volumes: ((input.volumes as Record<string, unknown>[] | undefined) ?? []).map((v) => {
            const efs = v.efsVolumeConfiguration as Record<string, unknown> | undefined
            return efs ? { ...v, efsVolumeConfiguration: { rootDirectory: '/', ...efs } } : v
          }),
          placementConstraints: input.placementConstraints ?? [],
        }
        const familyKey = `${ctx.region}/${family}`
        const revision = (state().families[familyKey] ?? 0) + 1
        state().families[familyKey] = revision
        const arn = ecsArn(ctx.region, ctx.accountId, `task-definition/${family}:${revision}`)
        const record: TaskDefinitionRecord = {
          arn,
          family,
          revision,
          region: ctx.region,
          status: 'ACTIVE',
          registeredAt: Date.now(),
          registeredBy: `arn:aws:iam::${ctx.accountId}:user/${ctx.caller}`,
          definition,
        }
        state().taskDefinitions[arn] = record
        const tagList = toTags(tags)
        if (tagList.length) state().tags[arn] = tagList
        changed()
        return { taskDefinition: presentTaskDefinition(record), tags: tagsOf(state(), arn) }
      },

      DescribeTaskDefinition: (input: { taskDefinition?: string; include?: string[] }, ctx) => {
        const td = findTaskDefinition(ctx, input.taskDefinition)
        if (!td) throw unknownTaskDefinition()
        return {
          taskDefinition: presentTaskDefinition(td),
          ...(input.include?.includes('TAGS') ? { tags: tagsOf(state(), td.arn) } : {}),
        }
      },

      ListTaskDefinitions: (
        input: {
          familyPrefix?: string
          status?: string
          sort?: string
          maxResults?: number
          nextToken?: string
        },
        ctx,
      ) => {
        const status = input.status ?? 'ACTIVE'
        // Despite its name, familyPrefix is a whole family name (AWS documents it so).
        const list = Object.values(state().taskDefinitions)
          .filter((td) => td.region === ctx.region && td.status === status)
          .filter((td) => !input.familyPrefix || td.family === input.familyPrefix)
          .sort((a, b) => a.family.localeCompare(b.family) || a.revision - b.revision)
        if (input.sort === 'DESC') list.reverse()
        const page = paginate(
          list.map((td) => td.arn),
          input.maxResults,
          input.nextToken,
          100,
        )
        return { taskDefinitionArns: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) }
      },

      ListTaskDefinitionFamilies: (
        input: { familyPrefix?: string; status?: string; maxResults?: number; nextToken?: string },
        ctx,
      ) => {
        const status = input.status ?? 'ALL'
        const byFamily = new Map<string, TaskDefinitionRecord[]>()
        for (const td of Object.values(state().taskDefinitions)) {
          if (td.region !== ctx.region || (input.familyPrefix && !td.family.startsWith(input.familyPrefix)))
            continue
          byFamily.set(td.family, [...(byFamily.get(td.family) ?? []), td])
        }
        const families = [...byFamily.entries()]
          .filter(([, tds]) => {
            const active = tds.some((td) => td.status === 'ACTIVE')
            return status === 'ALL' || (status === 'ACTIVE' ? active : !active)
          })
          .map(([family]) => family)
          .sort()
        const page = paginate(families, input.maxResults, input.nextToken, 100)
        return { families: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) }
      },

      DeregisterTaskDefinition: (input: { taskDefinition?: string }, ctx) => {
        const ref = input.taskDefinition ?? ''
        if (!ref.startsWith('arn:') && !ref.includes(':')) throw clientException('Revision is missing.')
        const td = findTaskDefinition(ctx, ref)
        if (!td) throw unknownTaskDefinition()
        if (td.status === 'ACTIVE') {
          td.status = 'INACTIVE'
          td.deregisteredAt = Date.now()
          changed()
        }
        return { taskDefinition: presentTaskDefinition(td) }
      },

      CreateService: (input: Record<string, unknown>, ctx) => {
        const cluster = findCluster(ctx, input.cluster)
        const name = input.serviceName
        if (typeof name !== 'string' || !/^[a-zA-Z0-9_-]{1,255}$/.test(name)) {
          throw invalidParameter(
            'serviceName can only contain letters, numbers, hyphens and underscores, up to 255.',
          )
        }
        const arn = serviceArnOf(cluster, name)
        const existing = state().services[arn]
        if (existing && existing.status !== 'INACTIVE')
          throw invalidParameter('Creation of service was not idempotent.')
        const td = deployable(ctx, input.taskDefinition, clientException('TaskDefinition is inactive'))
        checkDesiredCount(input.desiredCount)
        if (input.schedulingStrategy === 'DAEMON')
          throw invalidParameter('ecs-local schedules REPLICA services only.')
        requireNetworkConfiguration(td, input.networkConfiguration)
        const loadBalancers = (input.loadBalancers as LoadBalancerBinding[] | undefined) ?? []
        validateLoadBalancers(td, loadBalancers)
        const now = Date.now()
        const service: ServiceRecord = {
          arn,
          name,
          clusterArn: cluster.arn,
          region: ctx.region,
          status: 'ACTIVE',
          desiredCount: (input.desiredCount as number | undefined) ?? 0,
          taskDefinition: td.arn,
          ...(input.launchType
            ? { launchType: String(input.launchType) }
            : input.capacityProviderStrategy
              ? {}
              : { launchType: 'EC2' }),
          ...(input.platformVersion ? { platformVersion: String(input.platformVersion) } : {}),
          deploymentConfiguration: deploymentConfiguration(input.deploymentConfiguration),
          loadBalancers,
          ...(input.networkConfiguration ? { networkConfiguration: input.networkConfiguration } : {}),
          ...(input.healthCheckGracePeriodSeconds !== undefined
            ? { healthCheckGracePeriodSeconds: Number(input.healthCheckGracePeriodSeconds) }
            : {}),
          schedulingStrategy: 'REPLICA',
          ...(input.propagateTags ? { propagateTags: String(input.propagateTags) } : {}),
          enableECSManagedTags: input.enableECSManagedTags === true,
          enableExecuteCommand: input.enableExecuteCommand === true,
          createdAt: now,
          createdBy: `arn:aws:iam::${ctx.accountId}:user/${ctx.caller}`,
          deployments: [],
          pastDeployments: [],
          events: [],
          steady: false,
          consecutiveLaunchFailures: 0,
        }
        startDeployment(service, td.arn, now)
        state().services[arn] = service
        const tags = toTags(input.tags)
        if (tags.length) state().tags[arn] = tags
        else Reflect.deleteProperty(state().tags, arn)
        changed()
        return { service: presentService(state(), service, ['TAGS']) }
      },

      UpdateService: (input: Record<string, unknown>, ctx) => {
        const cluster = findCluster(ctx, input.cluster)
        const service = findService(cluster, input.service)
        if (!service) throw serviceNotFound()
        if (service.status !== 'ACTIVE')
          throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.')
        checkDesiredCount(input.desiredCount)
        const td =
          input.taskDefinition !== undefined
            ? deployable(ctx, input.taskDefinition, clientException('TaskDefinition is inactive'))
            : state().taskDefinitions[service.taskDefinition]
        const now = Date.now()
        const primary = service.deployments[0]
        let newDeployment =
          input.forceNewDeployment === true || (td !== undefined && td.arn !== primary?.taskDefinition)
        if (
          input.networkConfiguration !== undefined &&
          !isDeepStrictEqual(input.networkConfiguration, service.networkConfiguration)
        ) {
          service.networkConfiguration = input.networkConfiguration
          newDeployment = true
        }
        if (input.loadBalancers !== undefined) {
          const loadBalancers = input.loadBalancers as LoadBalancerBinding[]
          if (td) validateLoadBalancers(td, loadBalancers)
          if (!isDeepStrictEqual(loadBalancers, service.loadBalancers)) newDeployment = true
          service.loadBalancers = loadBalancers
        }
        if (td && newDeployment) requireNetworkConfiguration(td, service.networkConfiguration)
        if (input.deploymentConfiguration !== undefined) {
          service.deploymentConfiguration = deploymentConfiguration(
            input.deploymentConfiguration,
            service.deploymentConfiguration,
          )
        }
        if (input.healthCheckGracePeriodSeconds !== undefined) {
          service.healthCheckGracePeriodSeconds = Number(input.healthCheckGracePeriodSeconds)
        }
        if (input.enableExecuteCommand !== undefined)
          service.enableExecuteCommand = input.enableExecuteCommand === true
        if (input.propagateTags !== undefined) service.propagateTags = String(input.propagateTags)
        if (input.desiredCount !== undefined && input.desiredCount !== service.desiredCount) {
          service.desiredCount = input.desiredCount as number
          if (primary) {
            primary.desiredCount = service.desiredCount
            primary.updatedAt = now
          }
          service.steady = false
        }
        if (newDeployment && td) startDeployment(service, td.arn, now)
        changed()
        return { service: presentService(state(), service) }
      },

      DeleteService: (input: { cluster?: string; service?: string; force?: boolean }, ctx) => {
        const cluster = findCluster(ctx, input.cluster)
        const service = findService(cluster, input.service)
        if (!service) throw serviceNotFound()
        if (service.status !== 'ACTIVE')
          throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.')
        if (service.desiredCount > 0 && input.force !== true) {
          throw invalidParameter('The service cannot be stopped while it is scaled above 0.')
        }
        service.desiredCount = 0
        service.status = 'DRAINING'
        service.steady = false
        changed()
        return { service: presentService(state(), service) }
      },

      DescribeServices: (input: { cluster?: string; services?: string[]; include?: string[] }, ctx) => {
        const cluster = findCluster(ctx, input.cluster)
        const refs = input.services ?? []
        if (refs.length === 0) throw invalidParameter('Services cannot be empty.')
        if (refs.length > 10) throw invalidParameter('Too many services were specified: at most 10.')
        const services = []
        const failures = []
        for (const ref of refs) {
          const service = findService(cluster, ref)
          if (service) services.push(presentService(state(), service, input.include))
          else failures.push({ arn: serviceArnOf(cluster, ref), reason: 'MISSING' })
        }
        return { services, failures }
      },

      ListServices: (
        input: { cluster?: string; launchType?: string; maxResults?: number; nextToken?: string },
        ctx,
      ) => {
        const cluster = findCluster(ctx, input.cluster)
        const arns = Object.values(state().services)
          .filter((s) => s.clusterArn === cluster.arn && s.status !== 'INACTIVE')
          .filter((s) => !input.launchType || s.launchType === input.launchType)
          .map((s) => s.arn)
        const page = paginate(arns, input.maxResults, input.nextToken, 10)
        return { serviceArns: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) }
      },

      ListTasks: (
        input: {
          cluster?: string
          serviceName?: string
          family?: string
          startedBy?: string
          desiredStatus?: string
          launchType?: string
          maxResults?: number
          nextToken?: string
        },
        ctx,
      ) => {
        const cluster = findCluster(ctx, input.cluster)
        let serviceArn: string | undefined
        if (input.serviceName) {
          const service = findService(cluster, input.serviceName)
          if (!service) throw serviceNotFound()
          serviceArn = service.arn
        }
        const desiredStatus = input.desiredStatus ?? 'RUNNING'
        const arns = Object.values(state().tasks)
          .filter((t) => t.clusterArn === cluster.arn && t.desiredStatus === desiredStatus)
          .filter((t) => !serviceArn || t.serviceArn === serviceArn)
          .filter(
            (t) => !input.family || state().taskDefinitions[t.taskDefinitionArn]?.family === input.family,
          )
          .filter((t) => !input.startedBy || t.startedBy === input.startedBy)
          .filter((t) => !input.launchType || t.launchType === input.launchType)
          .sort((a, b) => a.createdAt - b.createdAt)
          .map((t) => t.arn)
        const page = paginate(arns, input.maxResults, input.nextToken, 100)
        return { taskArns: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) }
      },

      DescribeTasks: (input: { cluster?: string; tasks?: string[]; include?: string[] }, ctx) => {
        const cluster = findCluster(ctx, input.cluster)
        const refs = input.tasks ?? []
        if (refs.length === 0) throw invalidParameter('Tasks cannot be empty.')
        if (refs.length > 100) throw invalidParameter('Too many tasks were specified: at most 100.')
        const tasks = []
        const failures = []
        for (const ref of refs) {
          const task = findTask(cluster, ref)
          if (task) tasks.push(presentTask(state(), task, input.include))
          else
            failures.push({
              arn: ref.startsWith('arn:') ? ref : `${cluster.arn.replace(':cluster/', ':task/')}/${ref}`,
              reason: 'MISSING',
            })
        }
        return { tasks, failures }
      },

      RunTask: (input: Record<string, unknown>, ctx) => {
        const cluster = findCluster(ctx, input.cluster)
        const td = deployable(ctx, input.taskDefinition, invalidParameter('TaskDefinition is inactive'))
        const count = input.count === undefined ? 1 : Number(input.count)
        if (!Number.isInteger(count) || count < 1 || count > 10)
          throw invalidParameter('count must be between 1 and 10.')
        requireNetworkConfiguration(td, input.networkConfiguration)
        const launchType = input.launchType ? String(input.launchType) : 'EC2'
        if (launchType === 'FARGATE' && td.definition.networkMode !== 'awsvpc') {
          throw invalidParameter('Task definition does not support launch_type FARGATE.')
        }
        const overrides = (input.overrides as Record<string, unknown> | undefined) ?? {}
        const tags = toTags(input.tags)
        const tasks = Array.from({ length: count }, () =>
          scheduler.createTask({
            clusterArn: cluster.arn,
            region: ctx.region,
            taskDefinition: td,
            group: typeof input.group === 'string' && input.group ? input.group : `family:${td.family}`,
            ...(input.startedBy ? { startedBy: String(input.startedBy) } : {}),
            launchType,
            overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [], ...overrides },
            ...(input.networkConfiguration ? { networkConfiguration: input.networkConfiguration } : {}),
            tags:
              input.propagateTags === 'TASK_DEFINITION' && !tags.length ? (state().tags[td.arn] ?? []) : tags,
          }),
        )
        return { tasks: tasks.map((t) => presentTask(state(), t, ['TAGS'])), failures: [] }
      },

      StopTask: (input: { cluster?: string; task?: string; reason?: string }, ctx) => {
        const cluster = findCluster(ctx, input.cluster)
        const task = input.task ? findTask(cluster, input.task) : undefined
        if (!task) throw invalidParameter('The referenced task was not found.')
        scheduler.requestStop(task, input.reason || 'Task stopped by user', 'UserInitiated')
        return { task: presentTask(state(), task) }
      },

      TagResource: (input: { resourceArn?: string; tags?: unknown }) => {
        const arn = input.resourceArn ?? ''
        resourceExists(arn)
        const merged = new Map((state().tags[arn] ?? []).map((t) => [t.key, t.value]))
        for (const t of toTags(input.tags)) merged.set(t.key, t.value)
        state().tags[arn] = [...merged].map(([key, value]) => ({ key, value }))
        changed()
        return {}
      },

      UntagResource: (input: { resourceArn?: string; tagKeys?: string[] }) => {
        const arn = input.resourceArn ?? ''
        resourceExists(arn)
        state().tags[arn] = (state().tags[arn] ?? []).filter((t) => !(input.tagKeys ?? []).includes(t.key))
        changed()
        return {}
      },

      ListTagsForResource: (input: { resourceArn?: string }) => {
        const arn = input.resourceArn ?? ''
        resourceExists(arn)
        return { tags: tagsOf(state(), arn) }
      },
    },
  }
}
