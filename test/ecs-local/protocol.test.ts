import { describe, expect, it } from '@jest/globals'
import {
  ClientException,
  ClusterContainsServicesException,
  ClusterNotFoundException,
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  InvalidParameterException,
  ListClustersCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  ServiceNotActiveException,
  ServiceNotFoundException,
  StopTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs'
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  DuplicateListenerException,
  DuplicateTargetGroupNameException,
  ListenerNotFoundException,
  LoadBalancerNotFoundException,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  ResourceInUseException,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs'
import { ZERO_TIMINGS } from '@ecs-lockstep/ecs-local'
import { CLUSTER, NETWORK, registerTaskDefinition, until, useLocal } from './support.ts'

const h = useLocal({ runtime: 'simulated', timings: ZERO_TIMINGS })

const rejects = <T>(promise: Promise<T>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (error: unknown) => error as Error,
  )

const FARGATE = {
  networkMode: 'awsvpc' as const,
  requiresCompatibilities: ['FARGATE' as const],
  cpu: '256',
  memory: '512',
}

describe('ECS over awsJson1_1, parsed by @aws-sdk/client-ecs', () => {
  it('clusters: create (idempotent), describe with failures, list, delete', async () => {
    const { ecs } = h.clients
    const created = await ecs.send(
      new CreateClusterCommand({ clusterName: 'proto', tags: [{ key: 'team', value: 'wwhd' }] }),
    )
    expect(created.cluster).toMatchObject({
      clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/proto',
      clusterName: 'proto',
      status: 'ACTIVE',
      runningTasksCount: 0,
      activeServicesCount: 0,
    })
    const again = await ecs.send(new CreateClusterCommand({ clusterName: 'proto' }))
    expect(again.cluster?.clusterArn).toBe(created.cluster?.clusterArn)
    const described = await ecs.send(
      new DescribeClustersCommand({ clusters: ['proto', 'nope'], include: ['TAGS'] }),
    )
    expect(described.clusters?.[0]?.tags).toEqual([{ key: 'team', value: 'wwhd' }])
    expect(described.failures).toEqual([
      { arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/nope', reason: 'MISSING' },
    ])
    const listed = await ecs.send(new ListClustersCommand({}))
    expect(listed.clusterArns).toContain(created.cluster?.clusterArn)
    const deleted = await ecs.send(new DeleteClusterCommand({ cluster: 'proto' }))
    expect(deleted.cluster?.status).toBe('INACTIVE')
    const gone = await rejects(ecs.send(new DescribeServicesCommand({ cluster: 'proto', services: ['x'] })))
    expect(gone).toBeInstanceOf(ClusterNotFoundException)
    expect(gone.message).toBe('Cluster not found.')
  })

  it('task definitions: revisions per family, what the caller wrote kept (empty values too), ECS defaults added', async () => {
    const { ecs } = h.clients
    const input = {
      family: 'wwhd-backend',
      ...FARGATE,
      executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
      containerDefinitions: [
        {
          name: 'fastapi',
          image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/wwhd-dev-backend:abc',
          portMappings: [{ containerPort: 8000 }],
          environment: [
            { name: 'APP_ENV', value: 'production' },
            { name: 'EMPTY', value: '' },
          ],
          entryPoint: [],
          healthCheck: {
            command: ['CMD-SHELL', 'curl -f http://localhost:8000/health || exit 1'],
            interval: 30,
          },
          mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-00b8168893587fd61' } }],
      tags: [{ key: 'commit', value: '4a4841f' }],
    }
    const first = await ecs.send(new RegisterTaskDefinitionCommand(input))
    const second = await ecs.send(new RegisterTaskDefinitionCommand(input))
    expect(first.taskDefinition?.revision).toBe(1)
    expect(second.taskDefinition?.taskDefinitionArn).toBe(
      'arn:aws:ecs:us-east-1:123456789012:task-definition/wwhd-backend:2',
    )
    const described = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'wwhd-backend', include: ['TAGS'] }),
    )
    const td = described.taskDefinition
    expect(td).toMatchObject({
      family: 'wwhd-backend',
      revision: 2,
      status: 'ACTIVE',
      compatibilities: ['EC2', 'FARGATE'],
      registeredBy: expect.stringMatching(/^arn:aws:iam::123456789012:/),
      volumes: [
        {
          name: 'data',
          efsVolumeConfiguration: { fileSystemId: 'fs-00b8168893587fd61', rootDirectory: '/' },
        },
      ],
      placementConstraints: [],
    })
    expect(td?.registeredAt).toBeInstanceOf(Date)
    expect(td?.requiresAttributes?.map((a) => a.name)).toEqual(
      expect.arrayContaining([
        'ecs.capability.task-eni',
        'ecs.capability.container-health-check',
        'ecs.capability.efs',
      ]),
    )
    expect(td?.containerDefinitions?.[0]).toMatchObject({
      cpu: 0,
      essential: true,
      portMappings: [{ containerPort: 8000, hostPort: 8000, protocol: 'tcp' }],
      environment: [
        { name: 'APP_ENV', value: 'production' },
        { name: 'EMPTY', value: '' },
      ],
      entryPoint: [],
      mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }],
      volumesFrom: [],
    })
    expect(described.tags).toEqual([{ key: 'commit', value: '4a4841f' }])

    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'wwhd-backend:1' }))
    const inactive = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'wwhd-backend:1' }))
    expect(inactive.taskDefinition?.status).toBe('INACTIVE')
    expect(inactive.taskDefinition?.deregisteredAt).toBeInstanceOf(Date)
    const active = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'wwhd-backend' }))
    expect(active.taskDefinitionArns).toEqual([second.taskDefinition?.taskDefinitionArn])
    const inactiveList = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'wwhd-backend', status: 'INACTIVE' }),
    )
    expect(inactiveList.taskDefinitionArns).toEqual([first.taskDefinition?.taskDefinitionArn])
    await registerTaskDefinition(ecs, [{ name: 'a', image: 'app:1' }], { family: 'wwhd-backend' })
    const desc = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'wwhd-backend', sort: 'DESC' }),
    )
    expect(desc.taskDefinitionArns?.map((a) => a.split(':').pop())).toEqual(['3', '2'])
    const families = await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'wwhd-' }))
    expect(families.families).toEqual(['wwhd-backend'])
  })

  it('task definitions: the errors ECS gives', async () => {
    const { ecs } = h.clients
    const missing = await rejects(
      ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'no-such-family:7' })),
    )
    expect(missing).toBeInstanceOf(ClientException)
    expect(missing.message).toBe('Unable to describe task definition.')
    const noCpu = await rejects(
      ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'no-cpu',
          networkMode: 'awsvpc',
          requiresCompatibilities: ['FARGATE'],
          memory: '512',
          containerDefinitions: [{ name: 'a', image: 'app:1' }],
        }),
      ),
    )
    expect(noCpu).toBeInstanceOf(ClientException)
    expect(noCpu.message).toBe("Fargate requires that 'cpu' be defined at the task level.")
    // The SDK drops members it does not know; a raw caller sending DescribeTaskDefinition output back is refused.
    const raw = await fetch(h.local.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition',
      },
      body: JSON.stringify({
        family: 'echo',
        taskDefinitionArn: 'arn:x',
        revision: 3,
        containerDefinitions: [{ name: 'a', image: 'b', memory: 64 }],
      }),
    })
    expect(raw.status).toBe(400)
    expect(raw.headers.get('x-amzn-errortype')).toBe('ClientException')
    const body = (await raw.json()) as { __type: string; message: string }
    expect(body.__type).toBe('ClientException')
    expect(body.message).toMatch(/^Unknown parameter in input: "taskDefinitionArn", must be one of: family, /)
  })

  it('services: create, describe (with tags and MISSING), list pages of 10, update, the errors, delete', async () => {
    const { ecs } = h.clients
    const td = await registerTaskDefinition(ecs, [{ name: 'api', image: 'app:1' }], { family: 'proto-svc' })
    const created = await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'proto-api',
        taskDefinition: 'proto-svc',
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
        healthCheckGracePeriodSeconds: 60,
        deploymentConfiguration: {
          deploymentCircuitBreaker: { enable: true, rollback: true },
          minimumHealthyPercent: 0,
          maximumPercent: 100,
        },
        tags: [{ key: 'env', value: 'dev' }],
      }),
    )
    expect(created.service).toMatchObject({
      serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/${CLUSTER}/proto-api`,
      status: 'ACTIVE',
      desiredCount: 1,
      taskDefinition: td,
      launchType: 'FARGATE',
      schedulingStrategy: 'REPLICA',
      deploymentController: { type: 'ECS' },
      healthCheckGracePeriodSeconds: 60,
      networkConfiguration: NETWORK,
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: true, rollback: true },
        minimumHealthyPercent: 0,
        maximumPercent: 100,
      },
      deployments: [
        {
          status: 'PRIMARY',
          taskDefinition: td,
          desiredCount: 1,
          rolloutState: 'IN_PROGRESS',
          failedTasks: 0,
        },
      ],
      tags: [{ key: 'env', value: 'dev' }],
    })
    expect(created.service?.deployments?.[0]?.createdAt).toBeInstanceOf(Date)
    const done = await until(async () => {
      const d = await ecs.send(
        new DescribeServicesCommand({
          cluster: CLUSTER,
          services: ['proto-api', 'ghost'],
          include: ['TAGS'],
        }),
      )
      return d.services?.[0]?.deployments?.[0]?.rolloutState === 'COMPLETED' && d
    })
    expect(done.failures).toEqual([
      { arn: `arn:aws:ecs:us-east-1:123456789012:service/${CLUSTER}/ghost`, reason: 'MISSING' },
    ])
    expect(done.services?.[0]).toMatchObject({
      runningCount: 1,
      pendingCount: 0,
      tags: [{ key: 'env', value: 'dev' }],
    })
    expect(done.services?.[0]?.events?.[0]).toEqual({
      id: expect.any(String),
      createdAt: expect.any(Date),
      message: '(service proto-api) has reached a steady state.',
    })

    for (let i = 0; i < 11; i += 1) {
      await ecs.send(
        new CreateServiceCommand({
          cluster: CLUSTER,
          serviceName: `page-${i}`,
          taskDefinition: td,
          networkConfiguration: NETWORK,
        }),
      )
    }
    const page1 = await ecs.send(new ListServicesCommand({ cluster: CLUSTER }))
    expect(page1.serviceArns).toHaveLength(10)
    const page2 = await ecs.send(new ListServicesCommand({ cluster: CLUSTER, nextToken: page1.nextToken }))
    expect([...(page1.serviceArns ?? []), ...(page2.serviceArns ?? [])]).toEqual(
      expect.arrayContaining([created.service?.serviceArn, expect.stringMatching(/page-10$/)]),
    )

    const notFound = await rejects(
      ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'ghost', desiredCount: 1 })),
    )
    expect(notFound).toBeInstanceOf(ServiceNotFoundException)
    expect(notFound.message).toBe('Service not found.')
    const negative = await rejects(
      ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'proto-api', desiredCount: -1 })),
    )
    expect(negative).toBeInstanceOf(InvalidParameterException)
    const unknownTd = await rejects(
      ecs.send(
        new UpdateServiceCommand({ cluster: CLUSTER, service: 'proto-api', taskDefinition: 'proto-svc:99' }),
      ),
    )
    expect(unknownTd).toBeInstanceOf(InvalidParameterException)
    expect(unknownTd.message).toBe('Unable to describe task definition.')
    const old = await registerTaskDefinition(ecs, [{ name: 'api', image: 'app:0' }], { family: 'proto-svc' })
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: old }))
    const inactive = await rejects(
      ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'proto-api', taskDefinition: old })),
    )
    expect(inactive).toBeInstanceOf(ClientException)
    expect(inactive.message).toBe('TaskDefinition is inactive')
    const inactiveRun = await rejects(
      ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: old, networkConfiguration: NETWORK })),
    )
    expect(inactiveRun).toBeInstanceOf(InvalidParameterException)
    expect(inactiveRun.message).toBe('TaskDefinition is inactive')
    const noNetwork = await rejects(ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: td })))
    expect(noNetwork.message).toBe(
      "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    )
    const duplicate = await rejects(
      ecs.send(
        new CreateServiceCommand({
          cluster: CLUSTER,
          serviceName: 'proto-api',
          taskDefinition: td,
          networkConfiguration: NETWORK,
        }),
      ),
    )
    expect(duplicate.message).toBe('Creation of service was not idempotent.')

    const scaled = await rejects(
      ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: 'proto-api' })),
    )
    expect(scaled).toBeInstanceOf(InvalidParameterException)
    expect(scaled.message).toBe('The service cannot be stopped while it is scaled above 0.')
    const contains = await rejects(ecs.send(new DeleteClusterCommand({ cluster: CLUSTER })))
    expect(contains).toBeInstanceOf(ClusterContainsServicesException)
    const deleted = await ecs.send(
      new DeleteServiceCommand({ cluster: CLUSTER, service: 'proto-api', force: true }),
    )
    expect(deleted.service).toMatchObject({ status: 'DRAINING', desiredCount: 0 })
    const inactiveService = await until(async () => {
      const d = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['proto-api'] }))
      return d.services?.[0]?.status === 'INACTIVE' && d.services[0]
    })
    expect(inactiveService.runningCount).toBe(0)
    const notActive = await rejects(
      ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'proto-api', desiredCount: 1 })),
    )
    expect(notActive).toBeInstanceOf(ServiceNotActiveException)
    expect(notActive.message).toBe('Service was not ACTIVE.')
  })

  it('tasks and tags: run, list, describe with tags, tag and untag, stop', async () => {
    const { ecs } = h.clients
    const td = await registerTaskDefinition(ecs, [{ name: 'api', image: 'app:1' }], { family: 'proto-task' })
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: td,
        count: 2,
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
        tags: [{ key: 'purpose', value: 'protocol' }],
      }),
    )
    expect(run.tasks).toHaveLength(2)
    expect(run.failures).toEqual([])
    const arn = run.tasks?.[0]?.taskArn as string
    expect(arn).toMatch(new RegExp(`^arn:aws:ecs:us-east-1:123456789012:task/${CLUSTER}/[0-9a-f]{32}$`))
    const listed = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, family: 'proto-task' }))
    expect(listed.taskArns?.sort()).toEqual(run.tasks?.map((t) => t.taskArn).sort())
    await ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'extra', value: '1' }] }))
    await ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['purpose'] }))
    const tags = await ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }))
    expect(tags.tags).toEqual([{ key: 'extra', value: '1' }])
    const described = await ecs.send(
      new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn], include: ['TAGS'] }),
    )
    expect(described.tasks?.[0]).toMatchObject({
      taskArn: arn,
      clusterArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${CLUSTER}`,
      taskDefinitionArn: td,
      group: 'family:proto-task',
      launchType: 'FARGATE',
      tags: [{ key: 'extra', value: '1' }],
      attachments: [expect.objectContaining({ type: 'ElasticNetworkInterface' })],
      containers: [expect.objectContaining({ name: 'api', image: 'app:1' })],
    })
    const stopped = await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }))
    expect(stopped.task?.desiredStatus).toBe('STOPPED')
    const unknown = await rejects(ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: '0'.repeat(32) })))
    expect(unknown).toBeInstanceOf(InvalidParameterException)
    const tdTags = await ecs.send(new ListTagsForResourceCommand({ resourceArn: td }))
    expect(tdTags.tags).toEqual([])
  })
})

describe('Elastic Load Balancing v2 over awsQuery, parsed by @aws-sdk/client-elastic-load-balancing-v2', () => {
  it('load balancers, target groups, attributes, listeners, targets: every reply parses', async () => {
    const { elb } = h.clients
    const lb = await elb.send(
      new CreateLoadBalancerCommand({
        Name: 'proto-alb',
        Subnets: ['subnet-a', 'subnet-b'],
        SecurityGroups: ['sg-1'],
      }),
    )
    const balancer = lb.LoadBalancers?.[0]
    expect(balancer).toMatchObject({
      LoadBalancerName: 'proto-alb',
      DNSName: '127.0.0.1',
      Type: 'application',
      Scheme: 'internet-facing',
      State: { Code: 'active' },
      AvailabilityZones: [
        { ZoneName: 'us-east-1a', SubnetId: 'subnet-a' },
        { ZoneName: 'us-east-1b', SubnetId: 'subnet-b' },
      ],
      SecurityGroups: ['sg-1'],
    })
    expect(balancer?.LoadBalancerArn).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer\/app\/proto-alb\/[0-9a-f]{16}$/,
    )
    expect(balancer?.CreatedTime).toBeInstanceOf(Date)
    const byName = await elb.send(new DescribeLoadBalancersCommand({ Names: ['proto-alb'] }))
    expect(byName.LoadBalancers?.[0]?.LoadBalancerArn).toBe(balancer?.LoadBalancerArn)

    const tg = await elb.send(
      new CreateTargetGroupCommand({
        Name: 'proto-tg',
        Protocol: 'HTTP',
        Port: 8000,
        VpcId: 'vpc-1',
        TargetType: 'ip',
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 30,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 3,
        Matcher: { HttpCode: '200-299' },
      }),
    )
    const group = tg.TargetGroups?.[0]
    expect(group).toMatchObject({
      TargetGroupName: 'proto-tg',
      Protocol: 'HTTP',
      Port: 8000,
      TargetType: 'ip',
      HealthCheckPath: '/health',
      HealthCheckPort: 'traffic-port',
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: 30,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      Matcher: { HttpCode: '200-299' },
      LoadBalancerArns: [],
    })
    const arn = group?.TargetGroupArn as string
    const attributes = await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }))
    expect(attributes.Attributes).toContainEqual({
      Key: 'deregistration_delay.timeout_seconds',
      Value: '300',
    })
    const modified = await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }],
      }),
    )
    expect(modified.Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '5' })
    const changed = await elb.send(
      new ModifyTargetGroupCommand({ TargetGroupArn: arn, HealthCheckPath: '/health/deep' }),
    )
    expect(changed.TargetGroups?.[0]?.HealthCheckPath).toBe('/health/deep')

    const listener = await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: balancer?.LoadBalancerArn,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }],
      }),
    )
    expect(listener.Listeners?.[0]).toMatchObject({
      LoadBalancerArn: balancer?.LoadBalancerArn,
      Protocol: 'HTTP',
      Port: expect.any(Number),
      DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }],
    })
    const duplicate = await rejects(
      elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: balancer?.LoadBalancerArn,
          Protocol: 'HTTP',
          Port: 80,
          DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }],
        }),
      ),
    )
    expect(duplicate).toBeInstanceOf(DuplicateListenerException)
    const listeners = await elb.send(
      new DescribeListenersCommand({ LoadBalancerArn: balancer?.LoadBalancerArn }),
    )
    expect(listeners.Listeners).toHaveLength(1)
    const groups = await elb.send(
      new DescribeTargetGroupsCommand({ LoadBalancerArn: balancer?.LoadBalancerArn }),
    )
    expect(groups.TargetGroups?.[0]?.LoadBalancerArns).toEqual([balancer?.LoadBalancerArn])

    await elb.send(
      new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: '10.0.9.9', Port: 8000 }] }),
    )
    const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))
    expect(health.TargetHealthDescriptions?.[0]).toMatchObject({
      Target: { Id: '10.0.9.9', Port: 8000 },
      HealthCheckPort: '8000',
      TargetHealth: { State: expect.stringMatching(/^(initial|unhealthy)$/) },
    })
    await elb.send(
      new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: '10.0.9.9', Port: 8000 }] }),
    )
    // Zero timings scale the 5 s deregistration delay to nothing: the target is gone at once.
    const drained = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))
    expect(drained.TargetHealthDescriptions).toEqual([])

    const inUse = await rejects(elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })))
    expect(inUse).toBeInstanceOf(ResourceInUseException)
    await elb.send(new DeleteListenerCommand({ ListenerArn: listeners.Listeners?.[0]?.ListenerArn }))
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }))
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: balancer?.LoadBalancerArn }))
  })

  it('errors map to the SDK exception classes', async () => {
    const { elb } = h.clients
    const noLb = await rejects(
      elb.send(
        new DescribeLoadBalancersCommand({
          LoadBalancerArns: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/0'],
        }),
      ),
    )
    expect(noLb).toBeInstanceOf(LoadBalancerNotFoundException)
    const noTg = await rejects(elb.send(new DescribeTargetGroupsCommand({ Names: ['missing-tg'] })))
    expect(noTg).toBeInstanceOf(TargetGroupNotFoundException)
    const noListener = await rejects(
      elb.send(
        new DescribeListenersCommand({
          ListenerArns: ['arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/y/z'],
        }),
      ),
    )
    expect(noListener).toBeInstanceOf(ListenerNotFoundException)
    await elb.send(
      new CreateTargetGroupCommand({ Name: 'twice', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1' }),
    )
    const twice = await rejects(
      elb.send(new CreateTargetGroupCommand({ Name: 'twice', Protocol: 'HTTP', Port: 81, VpcId: 'vpc-1' })),
    )
    expect(twice).toBeInstanceOf(DuplicateTargetGroupNameException)
    expect(twice.message).toBe(
      "A target group with the same name 'twice' exists, but with different settings",
    )
  })
})

describe('CloudWatch Logs over awsJson1_1, parsed by @aws-sdk/client-cloudwatch-logs', () => {
  it('groups, streams, events: forward and backward tokens, limits, filters', async () => {
    const { logs } = h.clients
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/proto' }))
    const twice = await rejects(logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/proto' })))
    expect(twice).toBeInstanceOf(ResourceAlreadyExistsException)
    await logs.send(
      new CreateLogStreamCommand({ logGroupName: '/ecs/proto', logStreamName: 'fastapi/fastapi/a' }),
    )
    await logs.send(
      new CreateLogStreamCommand({ logGroupName: '/ecs/proto', logStreamName: 'qdrant/qdrant/a' }),
    )
    const t0 = Date.now() - 10_000
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/ecs/proto',
        logStreamName: 'fastapi/fastapi/a',
        logEvents: Array.from({ length: 5 }, (_, i) => ({
          timestamp: t0 + i,
          message: `line ${i}${i === 3 ? ' ERROR' : ''}`,
        })),
      }),
    )
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/ecs/proto',
        logStreamName: 'qdrant/qdrant/a',
        logEvents: [{ timestamp: t0 + 2, message: 'qdrant ERROR' }],
      }),
    )
    const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/pro' }))
    expect(groups.logGroups?.[0]).toMatchObject({
      logGroupName: '/ecs/proto',
      creationTime: expect.any(Number),
      storedBytes: expect.any(Number),
    })
    const streams = await logs.send(
      new DescribeLogStreamsCommand({ logGroupName: '/ecs/proto', logStreamNamePrefix: 'fastapi/' }),
    )
    expect(
      streams.logStreams?.map((s) => [s.logStreamName, s.firstEventTimestamp, s.lastEventTimestamp]),
    ).toEqual([['fastapi/fastapi/a', t0, t0 + 4]])

    // From the head, two at a time; at the end the forward token stops changing.
    const seen: string[] = []
    let token: string | undefined
    for (;;) {
      const page = await logs.send(
        new GetLogEventsCommand({
          logGroupName: '/ecs/proto',
          logStreamName: 'fastapi/fastapi/a',
          startFromHead: true,
          limit: 2,
          nextToken: token,
        }),
      )
      seen.push(...(page.events ?? []).map((e) => e.message ?? ''))
      if (page.nextForwardToken === token) break
      token = page.nextForwardToken
    }
    expect(seen).toEqual(['line 0', 'line 1', 'line 2', 'line 3 ERROR', 'line 4'])
    // Without startFromHead: the newest events; the backward token goes further back.
    const tail = await logs.send(
      new GetLogEventsCommand({ logGroupName: '/ecs/proto', logStreamName: 'fastapi/fastapi/a', limit: 2 }),
    )
    expect(tail.events?.map((e) => e.message)).toEqual(['line 3 ERROR', 'line 4'])
    expect(tail.nextForwardToken).toMatch(/^f\/\d{56}$/)
    const before = await logs.send(
      new GetLogEventsCommand({
        logGroupName: '/ecs/proto',
        logStreamName: 'fastapi/fastapi/a',
        limit: 2,
        nextToken: tail.nextBackwardToken,
      }),
    )
    expect(before.events?.map((e) => e.message)).toEqual(['line 1', 'line 2'])

    const errors = await logs.send(
      new FilterLogEventsCommand({ logGroupName: '/ecs/proto', filterPattern: 'ERROR' }),
    )
    expect(errors.events?.map((e) => [e.logStreamName, e.message])).toEqual([
      ['qdrant/qdrant/a', 'qdrant ERROR'],
      ['fastapi/fastapi/a', 'line 3 ERROR'],
    ])
    const one = await logs.send(
      new FilterLogEventsCommand({
        logGroupName: '/ecs/proto',
        logStreamNames: ['fastapi/fastapi/a'],
        limit: 3,
      }),
    )
    expect(one.events).toHaveLength(3)
    const rest = await logs.send(
      new FilterLogEventsCommand({
        logGroupName: '/ecs/proto',
        logStreamNames: ['fastapi/fastapi/a'],
        limit: 3,
        nextToken: one.nextToken,
      }),
    )
    expect(rest.events?.map((e) => e.message)).toEqual(['line 3 ERROR', 'line 4'])
    expect(rest.nextToken).toBeUndefined()

    const noGroup = await rejects(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/ecs/none' })))
    expect(noGroup).toBeInstanceOf(ResourceNotFoundException)
    expect(noGroup.message).toBe('The specified log group does not exist.')
    const noStream = await rejects(
      logs.send(new GetLogEventsCommand({ logGroupName: '/ecs/proto', logStreamName: 'nope' })),
    )
    expect(noStream.message).toBe('The specified log stream does not exist.')
  })
})
