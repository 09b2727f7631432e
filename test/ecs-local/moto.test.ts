import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  CreateTargetGroupCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { ZERO_TIMINGS } from '@ecs-lockstep/ecs-local'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { useLocal } from './support.ts'

/**
 * moto (an independent AWS emulator) as a second opinion on the wire format: the same calls go to
 * both, and every key moto answers with must be in ecs-local's answer with the same type. Values
 * differ (ids, times) and ecs-local may say more (fields moto does not model); shapes may not.
 */
const h = useLocal({ runtime: 'simulated', timings: ZERO_TIMINGS })
let moto: ChildProcess
let motoEndpoint = ''

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

beforeAll(async () => {
  const port = await freePort()
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
  motoEndpoint = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    try {
      if ((await fetch(`${motoEndpoint}/moto-api/`)).ok) break
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error('moto_server did not start within 20 s')
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}, 30_000)

afterAll(() => {
  moto?.kill()
})

type Shape = string | Shape[] | { [key: string]: Shape }

function shapeOf(value: unknown): Shape {
  if (Array.isArray(value)) return value.length > 0 ? [shapeOf(value[0])] : []
  if (value instanceof Date) return 'date'
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key, v]) => key !== '$metadata' && v !== undefined && v !== null)
        .map(([key, v]) => [key, shapeOf(v)]),
    )
  }
  return typeof value
}

/** Paths where `reference` (moto) has something `mine` lacks or types differently. */
function differences(mine: Shape, reference: Shape, path = '$'): string[] {
  if (typeof reference === 'string')
    return mine === reference ? [] : [`${path}: ${JSON.stringify(mine)} is not ${reference}`]
  if (Array.isArray(reference)) {
    if (!Array.isArray(mine)) return [`${path}: not a list`]
    return reference.length && mine.length
      ? differences(mine[0] as Shape, reference[0] as Shape, `${path}[0]`)
      : []
  }
  if (typeof mine !== 'object' || Array.isArray(mine)) return [`${path}: not an object`]
  return Object.entries(reference).flatMap(([key, shape]) =>
    key in mine ? differences(mine[key] as Shape, shape, `${path}.${key}`) : [`${path}.${key}: missing`],
  )
}

/** One raw awsJson1_1 call, so the comparison sees the bytes, not what an SDK kept of them. */
async function jsonCall(
  endpoint: string,
  target: string,
  body: unknown,
): Promise<{ status: number; errorType: string | null; json: unknown }> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonEC2ContainerServiceV20141113.${target}`,
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAECSLOCAL00000000/20250101/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  })
  return {
    status: response.status,
    errorType: response.headers.get('x-amzn-errortype'),
    json: await response.json(),
  }
}

const TASK_DEFINITION = {
  family: 'wwhd-backend',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '1024',
  memory: '2048',
  executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
  containerDefinitions: [
    {
      name: 'fastapi',
      image: 'wwhd-dev-backend:latest',
      portMappings: [{ containerPort: 8000 }],
      environment: [{ name: 'APP_ENV', value: 'production' }],
      mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/wwhd-backend' } },
    },
    {
      name: 'qdrant',
      image: 'qdrant/qdrant:latest',
      essential: false,
      portMappings: [{ containerPort: 6333 }],
    },
  ],
  volumes: [{ name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-00b8168893587fd61' } }],
}

function elbClient(endpoint: string): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAECSLOCAL00000000', secretAccessKey: 'not-a-secret' },
    maxAttempts: 1,
  })
}

describe('wire shapes match moto_server', () => {
  it('RegisterTaskDefinition and DescribeTaskDefinition', async () => {
    const theirs = await jsonCall(motoEndpoint, 'RegisterTaskDefinition', TASK_DEFINITION)
    const mine = await jsonCall(h.local.endpoint, 'RegisterTaskDefinition', TASK_DEFINITION)
    expect(mine.status).toBe(theirs.status)
    expect(Object.keys((theirs.json as { taskDefinition: object }).taskDefinition)).toEqual(
      expect.arrayContaining([
        'taskDefinitionArn',
        'containerDefinitions',
        'revision',
        'volumes',
        'compatibilities',
      ]),
    )
    expect(differences(shapeOf(mine.json), shapeOf(theirs.json))).toEqual([])
    const described = [motoEndpoint, h.local.endpoint].map((e) =>
      jsonCall(e, 'DescribeTaskDefinition', { taskDefinition: 'wwhd-backend:1' }),
    )
    const [theirDescription, myDescription] = await Promise.all(described)
    expect(differences(shapeOf(myDescription?.json), shapeOf(theirDescription?.json))).toEqual([])
  })

  it('an error: DescribeTaskDefinition of a revision that does not exist', async () => {
    const [theirs, mine] = await Promise.all(
      [motoEndpoint, h.local.endpoint].map((e) =>
        jsonCall(e, 'DescribeTaskDefinition', { taskDefinition: 'nope:1' }),
      ),
    )
    expect(mine?.status).toBe(theirs?.status)
    expect(mine?.errorType).toBe(theirs?.errorType)
    expect((mine?.json as { __type: string }).__type).toBe((theirs?.json as { __type: string }).__type)
    expect((mine?.json as { message: string }).message).toBe((theirs?.json as { message: string }).message)
  })

  it('CreateTargetGroup and DescribeTargetGroups (awsQuery XML, as the SDK reads it)', async () => {
    // moto checks that the VPC exists in its EC2: make one there (ecs-local takes any id).
    const vpc = await fetch(motoEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIAECSLOCAL00000000/20250101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: 'Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16',
    })
    const vpcId = /<vpcId>(vpc-[0-9a-f]+)<\/vpcId>/.exec(await vpc.text())?.[1]
    expect(vpcId).toBeDefined()
    const answers = []
    for (const endpoint of [motoEndpoint, h.local.endpoint]) {
      const elb = elbClient(endpoint)
      const created = await elb.send(
        new CreateTargetGroupCommand({
          Name: 'wwhd-tg',
          Protocol: 'HTTP',
          Port: 8000,
          VpcId: vpcId,
          TargetType: 'ip',
          HealthCheckPath: '/health',
          HealthCheckIntervalSeconds: 30,
          Matcher: { HttpCode: '200' },
        }),
      )
      const described = await elb.send(new DescribeTargetGroupsCommand({ Names: ['wwhd-tg'] }))
      answers.push({ created, described })
    }
    const [theirs, mine] = answers
    // The reference is a real target group, not an empty answer that anything would match.
    expect(Object.keys(theirs?.described.TargetGroups?.[0] ?? {})).toEqual(
      expect.arrayContaining([
        'TargetGroupArn',
        'HealthCheckPath',
        'Matcher',
        'TargetType',
        'HealthyThresholdCount',
      ]),
    )
    expect(differences(shapeOf(mine?.created), shapeOf(theirs?.created))).toEqual([])
    expect(differences(shapeOf(mine?.described), shapeOf(theirs?.described))).toEqual([])
  })
})
