import {
  isPendingStatus,
  type ClusterRecord,
  type EcsState,
  type ServiceRecord,
  type TaskDefinitionRecord,
  type TaskRecord,
} from './state.ts'
import { containerDefinitions, type VolumeDefinition } from './task-spec.ts'

/** Records → the shapes ECS answers with. Dates are Date objects; the JSON protocol makes them epoch seconds. */

const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms))

export function tagsOf(state: EcsState, arn: string) {
  return (state.tags[arn] ?? []).map(({ key, value }) => ({ key, value }))
}

export function compatibilities(definition: Record<string, unknown>): string[] {
  return definition.networkMode === 'awsvpc' ? ['EC2', 'FARGATE'] : ['EC2']
}

/** The capabilities ECS derives from what a task definition uses. */
export function requiresAttributes(definition: Record<string, unknown>): { name: string }[] {
  const names = new Set<string>(['com.amazonaws.ecs.capability.docker-remote-api.1.18'])
  const containers = containerDefinitions(definition)
  if (definition.networkMode === 'awsvpc') names.add('ecs.capability.task-eni')
  if (definition.taskRoleArn) names.add('com.amazonaws.ecs.capability.task-iam-role')
  if (definition.executionRoleArn && containers.some((c) => /\.dkr\.ecr\./.test(c.image))) {
    names.add('ecs.capability.execution-role-ecr-pull')
  }
  if (containers.some((c) => c.logConfiguration?.logDriver === 'awslogs')) {
    names.add('com.amazonaws.ecs.capability.logging-driver.awslogs')
    names.add('com.amazonaws.ecs.capability.docker-remote-api.1.19')
    if (definition.executionRoleArn) names.add('ecs.capability.execution-role-awslogs')
  }
  if (containers.some((c) => c.healthCheck)) names.add('ecs.capability.container-health-check')
  if (containers.some((c) => c.secrets?.some((s) => s.valueFrom.includes(':secretsmanager:')))) {
    names.add('ecs.capability.secrets.asm.environment-variables')
  }
  if (containers.some((c) => c.secrets?.some((s) => !s.valueFrom.includes(':secretsmanager:')))) {
    names.add('ecs.capability.secrets.ssm.environment-variables')
  }
  const volumes = (definition.volumes as VolumeDefinition[] | undefined) ?? []
  if (volumes.some((v) => v.efsVolumeConfiguration)) {
    names.add('ecs.capability.efsAuth')
    names.add('ecs.capability.efs')
    names.add('com.amazonaws.ecs.capability.docker-remote-api.1.25')
  }
  return [...names].map((name) => ({ name }))
}

export function presentTaskDefinition(record: TaskDefinitionRecord) {
  return {
    taskDefinitionArn: record.arn,
    ...record.definition,
    family: record.family,
    revision: record.revision,
    status: record.status,
    requiresAttributes: requiresAttributes(record.definition),
    compatibilities: compatibilities(record.definition),
    registeredAt: date(record.registeredAt),
    registeredBy: record.registeredBy,
    ...(record.deregisteredAt ? { deregisteredAt: date(record.deregisteredAt) } : {}),
  }
}

export function presentCluster(state: EcsState, cluster: ClusterRecord, include: string[] = []) {
  const tasks = Object.values(state.tasks).filter((t) => t.clusterArn === cluster.arn)
  return {
    clusterArn: cluster.arn,
    clusterName: cluster.name,
    status: cluster.status,
    registeredContainerInstancesCount: 0,
    runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
    pendingTasksCount: tasks.filter((t) => isPendingStatus(t.lastStatus) && t.desiredStatus === 'RUNNING')
      .length,
    activeServicesCount: Object.values(state.services).filter(
      (s) => s.clusterArn === cluster.arn && s.status === 'ACTIVE',
    ).length,
    statistics: [],
    tags: include.includes('TAGS') ? tagsOf(state, cluster.arn) : [],
    settings: include.includes('SETTINGS') ? cluster.settings : [],
    capacityProviders: [],
    defaultCapacityProviderStrategy: [],
  }
}

function counts(tasks: TaskRecord[]) {
  return {
    runningCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
    pendingCount: tasks.filter((t) => isPendingStatus(t.lastStatus) && t.desiredStatus === 'RUNNING').length,
  }
}

export function presentService(state: EcsState, service: ServiceRecord, include: string[] = []) {
  const tasks = Object.values(state.tasks).filter(
    (t) => t.serviceArn === service.arn && t.lastStatus !== 'STOPPED',
  )
  const fargate = (service.launchType ?? 'FARGATE') === 'FARGATE'
  return {
    serviceArn: service.arn,
    serviceName: service.name,
    clusterArn: service.clusterArn,
    loadBalancers: service.loadBalancers,
    serviceRegistries: [],
    status: service.status,
    desiredCount: service.desiredCount,
    ...counts(tasks),
    ...(service.launchType ? { launchType: service.launchType } : {}),
    ...(fargate ? { platformVersion: service.platformVersion ?? 'LATEST', platformFamily: 'Linux' } : {}),
    taskDefinition: service.taskDefinition,
    deploymentConfiguration: service.deploymentConfiguration,
    deployments: service.deployments.map((d) => ({
      id: d.id,
      status: d.status,
      taskDefinition: d.taskDefinition,
      desiredCount: d.desiredCount,
      ...counts(tasks.filter((t) => t.deploymentId === d.id)),
      failedTasks: d.failedTasks,
      createdAt: date(d.createdAt),
      updatedAt: date(d.updatedAt),
      ...(d.launchType ? { launchType: d.launchType } : {}),
      ...(fargate ? { platformVersion: '1.4.0', platformFamily: 'Linux' } : {}),
      ...(d.networkConfiguration ? { networkConfiguration: d.networkConfiguration } : {}),
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason,
    })),
    events: service.events.map((e) => ({ id: e.id, createdAt: date(e.createdAt), message: e.message })),
    createdAt: date(service.createdAt),
    placementConstraints: [],
    placementStrategy: [],
    ...(service.networkConfiguration ? { networkConfiguration: service.networkConfiguration } : {}),
    ...(service.healthCheckGracePeriodSeconds !== undefined
      ? { healthCheckGracePeriodSeconds: service.healthCheckGracePeriodSeconds }
      : {}),
    schedulingStrategy: service.schedulingStrategy,
    deploymentController: { type: 'ECS' },
    createdBy: service.createdBy,
    enableECSManagedTags: service.enableECSManagedTags,
    propagateTags: service.propagateTags ?? 'NONE',
    enableExecuteCommand: service.enableExecuteCommand,
    ...(include.includes('TAGS') ? { tags: tagsOf(state, service.arn) } : {}),
  }
}

/** A task's ENI attachment id, derived from its id so it never changes. */
function attachmentId(taskId: string): string {
  return `${taskId.slice(0, 8)}-${taskId.slice(8, 12)}-${taskId.slice(12, 16)}-${taskId.slice(16, 20)}-${taskId.slice(20, 32)}`
}

export function presentTask(state: EcsState, task: TaskRecord, include: string[] = []) {
  const definition = state.taskDefinitions[task.taskDefinitionArn]?.definition ?? {}
  const awsvpc = definition.networkMode === 'awsvpc'
  const subnet =
    (task.networkConfiguration as { awsvpcConfiguration?: { subnets?: string[] } } | undefined)
      ?.awsvpcConfiguration?.subnets?.[0] ?? 'subnet-00000000'
  const eniStatus =
    task.lastStatus === 'STOPPED' ? 'DELETED' : task.lastStatus === 'PROVISIONING' ? 'PRECREATED' : 'ATTACHED'
  const fargate = task.launchType === 'FARGATE'
  const definedContainers = containerDefinitions(definition)
  return {
    attachments: awsvpc
      ? [
          {
            id: attachmentId(task.id),
            type: 'ElasticNetworkInterface',
            status: eniStatus,
            details: [
              { name: 'subnetId', value: subnet },
              { name: 'networkInterfaceId', value: `eni-${task.id.slice(0, 17)}` },
              { name: 'macAddress', value: `0a:${task.id.slice(0, 10).replace(/(..)(?!$)/g, '$1:')}` },
              { name: 'privateDnsName', value: `ip-${task.privateIp.replace(/\./g, '-')}.ec2.internal` },
              { name: 'privateIPv4Address', value: task.privateIp },
            ],
          },
        ]
      : [],
    attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    availabilityZone: `${task.region}a`,
    clusterArn: task.clusterArn,
    ...(task.connectivityAt ? { connectivity: 'CONNECTED', connectivityAt: date(task.connectivityAt) } : {}),
    containers: task.containers.map((c) => {
      const defined = definedContainers.find((d) => d.name === c.name) as
        { cpu?: number; memory?: number } | undefined
      return {
        containerArn: c.arn,
        taskArn: task.arn,
        name: c.name,
        image: c.image,
        ...(c.imageDigest ? { imageDigest: c.imageDigest } : {}),
        ...(c.runtimeId ? { runtimeId: c.runtimeId } : {}),
        lastStatus: c.lastStatus,
        ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
        ...(c.reason ? { reason: c.reason } : {}),
        networkBindings: c.networkBindings,
        networkInterfaces: awsvpc
          ? [{ attachmentId: attachmentId(task.id), privateIpv4Address: task.privateIp }]
          : [],
        healthStatus: c.healthStatus ?? 'UNKNOWN',
        cpu: String(defined?.cpu ?? 0),
        ...(defined?.memory !== undefined ? { memory: String(defined.memory) } : {}),
        managedAgents: [],
      }
    }),
    ...(task.cpu ? { cpu: task.cpu } : {}),
    ...(task.memory ? { memory: task.memory } : {}),
    createdAt: date(task.createdAt),
    desiredStatus: task.desiredStatus,
    enableExecuteCommand: false,
    group: task.group,
    healthStatus: task.healthStatus,
    lastStatus: task.lastStatus,
    launchType: task.launchType,
    overrides: task.overrides,
    ...(fargate
      ? { platformVersion: '1.4.0', platformFamily: 'Linux', ephemeralStorage: { sizeInGiB: 20 } }
      : {}),
    pullStartedAt: date(task.pullStartedAt),
    pullStoppedAt: date(task.pullStoppedAt),
    startedAt: date(task.startedAt),
    ...(task.startedBy ? { startedBy: task.startedBy } : {}),
    ...(task.stopCode ? { stopCode: task.stopCode } : {}),
    stoppedAt: date(task.stoppedAt),
    ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    stoppingAt: date(task.stoppingAt),
    executionStoppedAt: date(task.executionStoppedAt),
    tags: include.includes('TAGS') ? tagsOf(state, task.arn) : [],
    taskArn: task.arn,
    taskDefinitionArn: task.taskDefinitionArn,
    version: task.version,
  }
}
