// The seed's AWS resources, created on ecs-local: a cluster, an ALB with a target group, two EFS
// volumes and a one-task service running the sample backend's api and vector-store containers.
// Used by `npm run pipeline` and the end-to-end tests.
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs'
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type ContainerDefinition,
  type DeploymentConfiguration,
} from '@aws-sdk/client-ecs'
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import type { EcsLocal } from '@ecs-lockstep/ecs-local'

/**
 * The seed's health verification as verify-health checks: /health is its health-path, load
 * balancer routing is its target check (and every check goes through the load balancer); these are
 * the other two, the RAG connectivity test and the Qdrant verification.
 */
export const SEED_CHECKS = [
  '- name: RAG system connectivity',
  '  path: /api/v1/rag/query',
  '  body: { query: connectivity test }',
  '  expect-json: { status: ok }',
  '  max-latency: 5s',
  '- name: Qdrant database',
  '  path: /health/deep',
  '  expect-json: { checks.vector_store: ok }',
].join('\n')

export const JWT_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:wwhd/jwt'

export interface StackOptions {
  cluster: string
  service: string
  image: string
  /** The sample backend's JWT secret, served to the task through `secrets`. */
  jwtSecret: string
  /** Default: the single-writer settings drain-and-deploy recommends. */
  deploymentConfiguration?: DeploymentConfiguration
  deregistrationDelaySeconds?: number
  /** Listener port on 127.0.0.1 (ecs-local takes a free one when it is taken). */
  listenerPort?: number
  /** EFS file systems for the api's data and the vector store; default the seed's. */
  fileSystems?: { data: string; database: string }
  /** More environment for the api container (e.g. the sample's rehearsal faults). */
  environment?: Record<string, string>
}

export interface Stack {
  taskDefinitionArn: string
  targetGroupArn: string
  loadBalancerArn: string
  url: string
  ecs: ECSClient
}

export const SINGLE_WRITER_DEPLOYMENTS: DeploymentConfiguration = {
  minimumHealthyPercent: 0,
  maximumPercent: 100,
  deploymentCircuitBreaker: { enable: true, rollback: false },
}

function clientConfig(local: EcsLocal) {
  const env = local.awsEnv()
  return {
    endpoint: local.endpoint,
    region: local.region,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID as string,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
    },
  }
}

/** The seed's two containers: FastAPI (here: the sample api) on 8000 and Qdrant (the vector store) on 6333. */
export function sampleContainers(
  image: string,
  options: { healthCheck: boolean; logGroup: string; environment?: Record<string, string> },
): ContainerDefinition[] {
  const logs = (prefix: string) => ({
    logDriver: 'awslogs' as const,
    options: {
      'awslogs-group': options.logGroup,
      'awslogs-region': 'us-east-1',
      'awslogs-stream-prefix': prefix,
    },
  })
  return [
    {
      name: 'fastapi',
      image,
      essential: true,
      portMappings: [{ containerPort: 8000, protocol: 'tcp' }],
      environment: [
        { name: 'APP_ENV', value: 'production' },
        { name: 'QDRANT_URL', value: 'http://localhost:6333' },
        { name: 'SQLITE_PATH', value: '/data/app.db' },
        { name: 'CREATE_DEFAULT_USER', value: 'testuser:testpass123' },
        ...Object.entries(options.environment ?? {}).map(([name, value]) => ({ name, value })),
      ],
      secrets: [{ name: 'JWT_SECRET', valueFrom: JWT_SECRET_ARN }],
      mountPoints: [{ sourceVolume: 'wwhd-data', containerPath: '/data' }],
      ...(options.healthCheck
        ? {
            healthCheck: {
              command: ['CMD', '/usr/local/bin/node', '/app/main.ts', 'healthcheck'],
              interval: 5,
              timeout: 3,
              retries: 2,
              startPeriod: 5,
            },
          }
        : {}),
      stopTimeout: 10,
      logConfiguration: logs('fastapi'),
    },
    {
      name: 'qdrant',
      image,
      essential: true,
      command: ['vector-store'],
      portMappings: [{ containerPort: 6333, protocol: 'tcp' }],
      mountPoints: [{ sourceVolume: 'wwhd-database', containerPath: '/database' }],
      stopTimeout: 10,
      logConfiguration: logs('qdrant'),
    },
  ]
}

export async function waitForSteadyService(
  ecs: ECSClient,
  cluster: string,
  service: string,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const found = (await ecs.send(new DescribeServicesCommand({ cluster, services: [service] })))
      .services?.[0]
    const primary = found?.deployments?.find((d) => d.status === 'PRIMARY')
    if (
      found?.deployments?.length === 1 &&
      primary?.rolloutState === 'COMPLETED' &&
      found.runningCount === found.desiredCount
    ) {
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error(`service ${service} did not become steady within ${timeoutMs / 1000}s`)
}

/** Creates the resources and waits until the service runs its first task. */
export async function createSampleStack(local: EcsLocal, options: StackOptions): Promise<Stack> {
  const config = clientConfig(local)
  const ecs = new ECSClient(config)
  const elb = new ElasticLoadBalancingV2Client(config)
  const logGroup = `/ecs/${options.service}`
  await ecs.send(new CreateClusterCommand({ clusterName: options.cluster }))
  await new CloudWatchLogsClient(config).send(new CreateLogGroupCommand({ logGroupName: logGroup }))
  const lb = (
    await elb.send(
      new CreateLoadBalancerCommand({
        Name: `${options.service}-alb`,
        Subnets: ['subnet-0a1', 'subnet-0b2'],
        Type: 'application',
      }),
    )
  ).LoadBalancers?.[0]
  const tg = (
    await elb.send(
      new CreateTargetGroupCommand({
        Name: options.service,
        Protocol: 'HTTP',
        Port: 8000,
        VpcId: 'vpc-local',
        TargetType: 'ip',
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 2,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
      }),
    )
  ).TargetGroups?.[0]
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: tg?.TargetGroupArn,
      Attributes: [
        {
          Key: 'deregistration_delay.timeout_seconds',
          Value: String(options.deregistrationDelaySeconds ?? 5),
        },
      ],
    }),
  )
  const listener = (
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb?.LoadBalancerArn,
        Protocol: 'HTTP',
        Port: options.listenerPort ?? 8080,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: tg?.TargetGroupArn }],
      }),
    )
  ).Listeners?.[0]
  local.setSecrets({ [JWT_SECRET_ARN]: options.jwtSecret })
  const fileSystems = options.fileSystems ?? {
    data: 'fs-00b8168893587fd61',
    database: 'fs-0421d6926b3c7056d',
  }
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: options.service,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '2048',
      memory: '4096',
      containerDefinitions: sampleContainers(options.image, {
        healthCheck: local.runtime === 'docker',
        logGroup,
        ...(options.environment ? { environment: options.environment } : {}),
      }),
      volumes: [
        {
          name: 'wwhd-data',
          efsVolumeConfiguration: { fileSystemId: fileSystems.data, transitEncryption: 'ENABLED' },
        },
        {
          name: 'wwhd-database',
          efsVolumeConfiguration: { fileSystemId: fileSystems.database, transitEncryption: 'ENABLED' },
        },
      ],
    }),
  )
  await ecs.send(
    new CreateServiceCommand({
      cluster: options.cluster,
      serviceName: options.service,
      taskDefinition: registered.taskDefinition?.taskDefinitionArn,
      desiredCount: 1,
      launchType: 'FARGATE',
      loadBalancers: [{ targetGroupArn: tg?.TargetGroupArn, containerName: 'fastapi', containerPort: 8000 }],
      deploymentConfiguration: options.deploymentConfiguration ?? SINGLE_WRITER_DEPLOYMENTS,
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0a1'], assignPublicIp: 'DISABLED' } },
    }),
  )
  await waitForSteadyService(ecs, options.cluster, options.service, 5 * 60_000)
  return {
    taskDefinitionArn: registered.taskDefinition?.taskDefinitionArn as string,
    targetGroupArn: tg?.TargetGroupArn as string,
    loadBalancerArn: lb?.LoadBalancerArn as string,
    url: `http://${lb?.DNSName}:${listener?.Port}`,
    ecs,
  }
}
