import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  CreateClusterCommand,
  CreateServiceCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ContainerDefinition,
  type Task,
} from '@aws-sdk/client-ecs'
import { CreateLogGroupCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr'
import {
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { REPO_ROOT } from '@ecs-lockstep/action-runner'
import { execFile, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildContext, removeAfterAll } from '../support/images.ts'
import { dockerConfigDir } from '../support/ecs-local.ts'
import {
  CLUSTER,
  NETWORK,
  clientsFor,
  createBalancer,
  describeService,
  describeTasks,
  efsVolume,
  registerTaskDefinition,
  tasksOf,
  until,
  useLocal,
} from './support.ts'

/** busybox httpd answering /health with "ok" on 8000, FROM scratch (test/fixtures/images/healthy). */
const WEB = 'lockstep-test/ecs-local-web:jest'
/** The same server whose /health answers 500 (test/fixtures/images/answers-500). */
const FAILING = 'lockstep-test/ecs-local-500:jest'

beforeAll(() => {
  removeAfterAll(WEB, FAILING)
  execFileSync('docker', ['build', '--quiet', '--tag', WEB, buildContext('healthy')])
  execFileSync('docker', ['build', '--quiet', '--tag', FAILING, buildContext('answers-500')])
}, 120_000)

// awsSecondsScale 0.25: a stopTimeout of 4 s is 1 s, a 5 s health check interval 1.25 s.
const h = useLocal({
  runtime: 'docker',
  registry: true,
  timings: {
    provisioningMs: 0,
    pendingMs: 0,
    activatingMs: 0,
    deprovisioningMs: 0,
    healthyWithoutChecksMs: 0,
    awsSecondsScale: 0.25,
  },
  secrets: {
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:wwhd/jwt-AbCdEf': 'jwt-from-secrets-manager',
  },
})

const LOGS = '/ecs/docker-jest'
beforeAll(async () => {
  await h.clients.logs.send(new CreateLogGroupCommand({ logGroupName: LOGS }))
})
const awslogs = (prefix: string) => ({
  logDriver: 'awslogs' as const,
  options: { 'awslogs-group': LOGS, 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': prefix },
})

async function run(
  taskDefinition: string,
  overrides?: { containerOverrides: { name: string; command: string[] }[] },
) {
  const answer = await h.clients.ecs.send(
    new RunTaskCommand({
      cluster: CLUSTER,
      taskDefinition,
      launchType: 'FARGATE',
      networkConfiguration: NETWORK,
      ...(overrides ? { overrides } : {}),
    }),
  )
  return answer.tasks?.[0]?.taskArn as string
}

async function until_(
  arn: string,
  test: (task: Task) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<Task> {
  return until(
    async () => {
      const [task] = await describeTasks(h.clients.ecs, [arn])
      return task && test(task) && task
    },
    { timeoutMs, everyMs: 100, what },
  )
}

/** A stream's lines; none while its first line has not arrived (awslogs ships them asynchronously, as on AWS). */
async function logLines(stream: string): Promise<string[]> {
  try {
    const answer = await h.clients.logs.send(
      new GetLogEventsCommand({ logGroupName: LOGS, logStreamName: stream, startFromHead: true }),
    )
    return (answer.events ?? []).map((e) => e.message ?? '')
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return []
    throw error
  }
}

/** Waits until a stream holds `count` lines at least, then returns them. */
function linesOf(stream: string, count: number): Promise<string[]> {
  return until(
    async () => {
      const lines = await logLines(stream)
      return lines.length >= count && lines
    },
    { timeoutMs: 15_000, everyMs: 100, what: `${count} line(s) in ${stream}` },
  )
}

const labelled = (label: string) =>
  execFileSync('docker', ['ps', '--all', '--quiet', '--filter', `label=${label}`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)

describe('docker runtime (real containers)', () => {
  it('runs a task: its containers share localhost, EFS is shared, awslogs reach CloudWatch, the health check runs in the container', async () => {
    const { ecs } = h.clients
    const containers: ContainerDefinition[] = [
      {
        name: 'web',
        image: WEB,
        portMappings: [{ containerPort: 8000 }],
        healthCheck: {
          command: ['CMD-SHELL', 'wget -q -O /dev/null http://localhost:8000/health'],
          interval: 5,
          timeout: 2,
          retries: 2,
        },
        environment: [{ name: 'APP_ENV', value: 'production' }],
        logConfiguration: awslogs('web'),
      },
      {
        name: 'client',
        image: WEB,
        essential: false,
        secrets: [
          {
            name: 'JWT_SECRET',
            valueFrom: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:wwhd/jwt-AbCdEf',
          },
        ],
        entryPoint: ['sh', '-c'],
        command: [
          'until wget -q -O - http://localhost:8000/health 2>/dev/null; do sleep 0.2; done; echo; echo "jwt=$JWT_SECRET" > /data/from-first-task; echo wrote; sleep 300',
        ],
        mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }],
        logConfiguration: awslogs('client'),
      },
    ]
    const td = await registerTaskDefinition(ecs, containers, {
      volumes: [efsVolume('data', 'fs-docker-jest')],
    })
    const arn = await run(td)
    const id = arn.split('/').pop()
    const healthy = await until_(arn, (t) => t.healthStatus === 'HEALTHY', 'the task to be HEALTHY')
    expect(healthy.lastStatus).toBe('RUNNING')
    const web = healthy.containers?.find((c) => c.name === 'web')
    expect(web).toMatchObject({
      healthStatus: 'HEALTHY',
      imageDigest: expect.stringMatching(/^sha256:/),
      runtimeId: expect.any(String),
    })
    const binding = web?.networkBindings?.[0]
    expect(binding).toMatchObject({ bindIP: '127.0.0.1', containerPort: 8000, protocol: 'tcp' })
    expect((await (await fetch(`http://127.0.0.1:${binding?.hostPort}/health`)).text()).trim()).toBe('ok')

    await until(async () => (await logLines(`client/client/${id}`)).includes('wrote'), {
      timeoutMs: 15_000,
      what: 'the client log',
    })
    expect(await logLines(`client/client/${id}`)).toEqual(['ok', '', 'wrote'])
    expect((await linesOf(`web/web/${id}`, 1))[0]).toBe('starting on 8000 (APP_ENV=production)')

    // A second task on the same file system sees what the first wrote.
    const reader = await registerTaskDefinition(
      ecs,
      [
        {
          name: 'reader',
          image: WEB,
          entryPoint: ['sh', '-c'],
          command: ['cat /data/from-first-task'],
          mountPoints: [{ sourceVolume: 'data', containerPath: '/data', readOnly: true }],
          logConfiguration: awslogs('reader'),
        },
      ],
      { volumes: [efsVolume('data', 'fs-docker-jest')] },
    )
    const readerArn = await run(reader)
    const done = await until_(readerArn, (t) => t.lastStatus === 'STOPPED', 'the reader to finish')
    expect(done.containers?.[0]?.exitCode).toBe(0)
    expect(await linesOf(`reader/reader/${readerArn.split('/').pop()}`, 1)).toEqual([
      'jwt=jwt-from-secrets-manager',
    ])
    expect(readFileSync(join(h.stateDir, 'efs', 'fs-docker-jest', 'from-first-task'), 'utf8')).toBe(
      'jwt=jwt-from-secrets-manager\n',
    )
    // Both tasks held fs-docker-jest at once: the monitor says so.
    expect(h.local.report().overlaps.some((o) => o.volume === 'efs:fs-docker-jest:/')).toBe(true)
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }))
  }, 60_000)

  it('stops with SIGTERM, then SIGKILL after the stopTimeout', async () => {
    const td = await registerTaskDefinition(h.clients.ecs, [
      {
        name: 'graceful',
        image: WEB,
        entryPoint: ['sh', '-c'],
        command: ['trap "echo got SIGTERM; exit 0" TERM; echo up; while true; do sleep 0.1; done'],
        stopTimeout: 4,
        logConfiguration: awslogs('graceful'),
      },
      // PID 1 without a handler ignores SIGTERM, as in Docker: only the SIGKILL ends it.
      { name: 'stubborn', image: WEB, entryPoint: ['sh', '-c'], command: ['sleep 300'], stopTimeout: 4 },
    ])
    const arn = await run(td)
    await until_(arn, (t) => t.lastStatus === 'RUNNING', 'RUNNING')
    await until(async () => (await logLines(`graceful/graceful/${arn.split('/').pop()}`)).includes('up'), {
      what: 'the trap',
    })
    await h.clients.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn, reason: 'testing stop' }))
    const stopped = await until_(arn, (t) => t.lastStatus === 'STOPPED', 'STOPPED')
    expect(stopped.containers?.map((c) => [c.name, c.exitCode])).toEqual([
      ['graceful', 0],
      ['stubborn', 137],
    ])
    const graceful = `graceful/graceful/${arn.split('/').pop()}`
    await until(async () => (await logLines(graceful)).includes('got SIGTERM'), { what: 'the SIGTERM line' })
    const history = h.local.report().timelines.find((t) => t.taskArn === arn)?.history ?? []
    const at = (status: string) => Date.parse(history.find((s) => s.status === status)?.at as string)
    // stopTimeout 4 s × 0.25 = 1 s of grace before the SIGKILL.
    expect(at('DEPROVISIONING') - at('STOPPING')).toBeGreaterThanOrEqual(1000)
    expect(stopped.stoppedReason).toBe('testing stop')
  }, 60_000)

  it('the load balancer routes only to the healthy task', async () => {
    const { ecs, elb } = h.clients
    const lb = await createBalancer(elb, 'docker', { deregistrationDelaySeconds: 0 })
    const td = await registerTaskDefinition(ecs, [
      { name: 'web', image: WEB, portMappings: [{ containerPort: 8000 }] },
    ])
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'docker-web',
        taskDefinition: td,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
        loadBalancers: [{ targetGroupArn: lb.targetGroupArn, containerName: 'web', containerPort: 8000 }],
      }),
    )
    // A task whose /health answers 500, registered by its private address like any awsvpc target.
    const failing = await run(
      await registerTaskDefinition(ecs, [
        { name: 'web', image: FAILING, portMappings: [{ containerPort: 8000 }] },
      ]),
    )
    const running = await until_(failing, (t) => t.lastStatus === 'RUNNING', 'the failing task')
    const ip = running.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value
    await elb.send(
      new RegisterTargetsCommand({ TargetGroupArn: lb.targetGroupArn, Targets: [{ Id: ip, Port: 8000 }] }),
    )
    await until(
      async () => {
        const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: lb.targetGroupArn }))
        const states = (health.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State).sort()
        return states.join() === 'healthy,unhealthy'
      },
      { timeoutMs: 30_000, everyMs: 200, what: 'one healthy and one unhealthy target' },
    )
    const service = await describeService(ecs, 'docker-web')
    expect(service.deployments?.[0]?.rolloutState).toBe('COMPLETED')
    for (let i = 0; i < 6; i += 1) {
      const answer = await fetch(`${lb.url}/health`)
      expect(answer.status).toBe(200)
      expect((await answer.text()).trim()).toBe('ok')
    }
    await h.clients.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: failing }))
  }, 60_000)

  it('pulls images from the registry behind ECR, and fails the launch of a tag that was never pushed', async () => {
    const host = h.local.registryHost as string
    const config = dockerConfigDir()
    const env = { ...process.env, DOCKER_CONFIG: config }
    const ecr = new ECRClient({
      endpoint: h.local.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAECSLOCAL00000000', secretAccessKey: 'not-a-secret' },
    })
    const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0]
      ?.authorizationToken as string
    const [, registryPassword] = Buffer.from(token, 'base64').toString().split(':')
    execFileSync('docker', ['login', '--username', 'AWS', '--password-stdin', host], {
      input: registryPassword,
      env,
    })
    execFileSync('docker', ['tag', WEB, `${host}/wwhd-dev-backend:v1`], { env })
    execFileSync('docker', ['push', '--quiet', `${host}/wwhd-dev-backend:v1`], { env })
    const pushed = execFileSync(
      'docker',
      ['image', 'inspect', '--format', '{{json .RepoDigests}}', `${host}/wwhd-dev-backend:v1`],
      {
        encoding: 'utf8',
      },
    )
    rmSync(config, { recursive: true, force: true })

    const image = (tag: string) => [
      { name: 'api', image: `${host}/wwhd-dev-backend:${tag}`, command: ['sleep', '300'] },
    ]
    const pulled = await run(await registerTaskDefinition(h.clients.ecs, image('v1')))
    const task = await until_(pulled, (t) => t.lastStatus === 'RUNNING', 'the pulled task')
    expect(pushed).toContain(`${host}/wwhd-dev-backend@${task.containers?.[0]?.imageDigest}`)
    expect(task.pullStartedAt).toBeInstanceOf(Date)
    await h.clients.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: pulled }))

    const missing = await run(await registerTaskDefinition(h.clients.ecs, image('never-pushed')))
    const failed = await until_(missing, (t) => t.lastStatus === 'STOPPED', 'the failed launch')
    expect(failed.stopCode).toBe('TaskFailedToStart')
    expect(failed.stoppedReason).toBe(
      `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${host}/wwhd-dev-backend:never-pushed: ${host}/wwhd-dev-backend:never-pushed: not found`,
    )
  }, 60_000)
})

describe('docker runtime across an ecs-local crash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-local-adopt-'))
  let adopted: EcsLocal | undefined
  afterAll(async () => {
    await adopted?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('adopts the containers that still run, and removes them all on a clean stop', async () => {
    const cli = join(REPO_ROOT, 'packages/ecs-local/src/cli.ts')
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [
        cli,
        'start',
        '--detach',
        '--runtime',
        'docker',
        '--no-registry',
        '--state-dir',
        dir,
      ])
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`ecs-local start exited ${code}`)),
      )
    })
    const info = JSON.parse(readFileSync(join(dir, 'ecs-local.json'), 'utf8')) as {
      pid: number
      endpoint: string
    }
    const before = clientsFor({ endpoint: info.endpoint, awsEnv: h.local.awsEnv } as EcsLocal)
    await before.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }))
    const td = await registerTaskDefinition(before.ecs, [
      { name: 'db', image: WEB, command: ['sleep', '300'] },
    ])
    const answer = await before.ecs.send(
      new RunTaskCommand({ cluster: CLUSTER, taskDefinition: td, networkConfiguration: NETWORK }),
    )
    const arn = answer.tasks?.[0]?.taskArn as string
    const live = await until(
      async () => {
        const [task] = await describeTasks(before.ecs, [arn])
        return task?.lastStatus === 'RUNNING' && task
      },
      { timeoutMs: 30_000, everyMs: 100 },
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    // A crash: no clean-up at all.
    process.kill(info.pid, 'SIGKILL')
    await new Promise((resolve) => execFile('sleep', ['0.3'], resolve))
    const home = (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { home: string }).home
    expect(labelled(`ecs-local.home=${home}`).length).toBe(2)

    adopted = await startEcsLocal({ runtime: 'docker', registry: false, stateDir: dir })
    const after = clientsFor(adopted)
    const [task] = await describeTasks(after.ecs, [arn])
    expect(task?.lastStatus).toBe('RUNNING')
    expect(task?.containers?.[0]?.runtimeId).toBe(live.containers?.[0]?.runtimeId)
    expect(await tasksOf(after.ecs, 'none').catch((e: Error) => e.name)).toBe('ServiceNotFoundException')
    await adopted.stop()
    adopted = undefined
    expect(labelled(`ecs-local.home=${home}`)).toEqual([])
    expect(existsSync(join(dir, 'state.json'))).toBe(true)
  }, 90_000)
})
