export { holdConnection } from '../support/load-balancer.ts'
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import {
  CreateClusterCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type ContainerDefinition,
  type Service,
  type Task,
  type Volume,
} from '@aws-sdk/client-ecs'
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { afterAll, beforeAll } from '@jest/globals'
import { startEcsLocal, type EcsLocal, type EcsLocalOptions } from '@ecs-lockstep/ecs-local'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeRegisteredImages, untagRegistryImages } from '../support/images.ts'

export const CLUSTER = 'wwhd-cluster'
export const NETWORK = {
  awsvpcConfiguration: { subnets: ['subnet-0aaa', 'subnet-0bbb'], assignPublicIp: 'DISABLED' as const },
}

export interface Clients {
  ecs: ECSClient
  elb: ElasticLoadBalancingV2Client
  logs: CloudWatchLogsClient
}

export function clientsFor(local: EcsLocal): Clients {
  const env = local.awsEnv()
  const config = {
    endpoint: local.endpoint,
    region: env.AWS_REGION as string,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID as string,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
    },
    // The tests poll fast and look at each answer: no retries behind their back.
    maxAttempts: 1,
  }
  return {
    ecs: new ECSClient(config),
    elb: new ElasticLoadBalancingV2Client(config),
    logs: new CloudWatchLogsClient(config),
  }
}

export interface Harness {
  readonly local: EcsLocal
  readonly stateDir: string
  readonly clients: Clients
}

/** One ecs-local for the test file (its own state directory), started before and stopped after. */
export function useLocal(options: EcsLocalOptions): Harness {
  const holder = {} as { local: EcsLocal; stateDir: string; clients: Clients }
  beforeAll(async () => {
    holder.stateDir = mkdtempSync(join(tmpdir(), 'ecs-local-jest-'))
    holder.local = await startEcsLocal({ registry: false, ...options, stateDir: holder.stateDir })
    holder.clients = clientsFor(holder.local)
    await holder.clients.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }))
  })
  afterAll(async () => {
    const host = holder.local?.registryHost
    await holder.local?.stop()
    untagRegistryImages(host)
    removeRegisteredImages()
    rmSync(holder.stateDir, { recursive: true, force: true })
  })
  return holder
}

/** Polls until `probe` returns something truthy; fails with the last value seen. */
export async function until<T>(
  probe: () => Promise<T | undefined | null | false>,
  { timeoutMs = 10_000, everyMs = 10, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    last = await probe()
    if (last) return last as T
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

let family = 0
/** Registers a Fargate-style task definition; each call a new family unless one is given. */
export async function registerTaskDefinition(
  ecs: ECSClient,
  containers: ContainerDefinition[],
  options: { family?: string; volumes?: Volume[] } = {},
): Promise<string> {
  const answer = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: options.family ?? `family-${process.pid}-${(family += 1)}`,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: containers,
      ...(options.volumes ? { volumes: options.volumes } : {}),
    }),
  )
  return answer.taskDefinition?.taskDefinitionArn as string
}

export const efsVolume = (name: string, fileSystemId: string): Volume => ({
  name,
  efsVolumeConfiguration: { fileSystemId, rootDirectory: '/' },
})

export async function describeService(ecs: ECSClient, service: string): Promise<Service> {
  const answer = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [service] }))
  return answer.services?.[0] as Service
}

export async function tasksOf(
  ecs: ECSClient,
  service: string,
  desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING',
) {
  const listed = await ecs.send(
    new ListTasksCommand({ cluster: CLUSTER, serviceName: service, desiredStatus }),
  )
  return listed.taskArns ?? []
}

export async function describeTasks(ecs: ECSClient, arns: string[]): Promise<Task[]> {
  if (arns.length === 0) return []
  const answer = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns }))
  return answer.tasks ?? []
}

/** Every task of the service (live and stopped), described. */
export async function allTasksOf(ecs: ECSClient, service: string): Promise<Task[]> {
  const arns = [...(await tasksOf(ecs, service, 'RUNNING')), ...(await tasksOf(ecs, service, 'STOPPED'))]
  return describeTasks(ecs, arns)
}

export const messages = (service: Service) => (service.events ?? []).map((e) => e.message ?? '')

export interface Balancer {
  loadBalancerArn: string
  targetGroupArn: string
  listenerArn: string
  /** http://127.0.0.1:<port>: the listener's real address. */
  url: string
}

/** An ALB with an ip target group on `port` and an HTTP listener forwarding to it. */
export async function createBalancer(
  elb: ElasticLoadBalancingV2Client,
  name: string,
  options: {
    port?: number
    listenerPort?: number
    healthPath?: string
    deregistrationDelaySeconds?: number
    interval?: number
  } = {},
): Promise<Balancer> {
  const lb = await elb.send(
    new CreateLoadBalancerCommand({
      Name: `${name}-alb`,
      Subnets: ['subnet-0aaa', 'subnet-0bbb'],
      Type: 'application',
    }),
  )
  const loadBalancerArn = lb.LoadBalancers?.[0]?.LoadBalancerArn as string
  const tg = await elb.send(
    new CreateTargetGroupCommand({
      Name: `${name}-tg`,
      Protocol: 'HTTP',
      Port: options.port ?? 8000,
      VpcId: 'vpc-0123',
      TargetType: 'ip',
      HealthCheckPath: options.healthPath ?? '/health',
      HealthCheckIntervalSeconds: options.interval ?? 5,
      HealthCheckTimeoutSeconds: 2,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
      Matcher: { HttpCode: '200' },
    }),
  )
  const targetGroupArn = tg.TargetGroups?.[0]?.TargetGroupArn as string
  if (options.deregistrationDelaySeconds !== undefined) {
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: targetGroupArn,
        Attributes: [
          { Key: 'deregistration_delay.timeout_seconds', Value: String(options.deregistrationDelaySeconds) },
        ],
      }),
    )
  }
  const listener = await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Protocol: 'HTTP',
      Port: options.listenerPort ?? 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  )
  const port = listener.Listeners?.[0]?.Port as number
  const dns = lb.LoadBalancers?.[0]?.DNSName as string
  return {
    loadBalancerArn,
    targetGroupArn,
    listenerArn: listener.Listeners?.[0]?.ListenerArn as string,
    url: `http://${dns}:${port}`,
  }
}

export async function targetStates(elb: ElasticLoadBalancingV2Client, targetGroupArn: string) {
  const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }))
  return (health.TargetHealthDescriptions ?? []).map((d) => ({
    id: d.Target?.Id,
    port: d.Target?.Port,
    state: d.TargetHealth?.State,
    reason: d.TargetHealth?.Reason,
  }))
}
