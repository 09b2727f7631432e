import { afterAll, beforeAll, expect, it, jest } from '@jest/globals'
import { ListTagsForResourceCommand, UntagResourceCommand } from '@aws-sdk/client-ecs'
import { runAction, REPO_ROOT } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSampleStack, type Stack } from '../../examples/sample-backend/stack.ts'
import { buildContext, untagRegistryImages } from '../support/images.ts'

jest.setTimeout(10 * 60_000)

/**
 * docs/iam-policy.json against what the actions really call: each action runs, bundled, through its
 * paths (success, failure with a diagnosis, the rollback's last-resort revision lookup, the
 * verification's scale-down), each under an access key of its own, against ecs-local, which records
 * every AWS call by caller. Nothing the actions call may be missing from their statements, and
 * nothing in their statements may go unused, but for the permissions no API log can see.
 */
interface Statement {
  Sid: string
  Action: string | string[]
}
const policy = JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'iam-policy.json'), 'utf8')) as {
  Statement: Statement[]
}

const SID_PREFIX: Record<string, string> = {
  'push-ecr': 'PushEcr',
  'drain-and-deploy': 'DrainAndDeploy',
  rollback: 'Rollback',
  'verify-health': 'VerifyHealth',
  'run-task': 'RunTask',
}

/** Granted but invisible to an API log: authorization checks, the registry protocol, fallbacks. */
const UNSEEN: Record<string, string[]> = {
  // docker push speaks the registry protocol, which ECR authorizes with these.
  'push-ecr': [
    'ecr:BatchCheckLayerAvailability',
    'ecr:InitiateLayerUpload',
    'ecr:UploadLayerPart',
    'ecr:CompleteLayerUpload',
    'ecr:PutImage',
  ],
  // RegisterTaskDefinition with task and execution roles is authorized by PassRole; the tags are
  // read with ListTagsForResource only when DescribeServices returns none; the cluster is described
  // only when the service is not found (to name the wrong input).
  'drain-and-deploy': ['iam:PassRole', 'ecs:ListTagsForResource', 'ecs:DescribeClusters'],
  rollback: ['ecs:ListTagsForResource', 'ecs:DescribeClusters'],
  'verify-health': [],
  // RunTask passes the task definition's roles to ECS.
  'run-task': ['iam:PassRole'],
}

const callers = Object.fromEntries(
  Object.keys(SID_PREFIX).map((action) => [action, `AKIAIAM${action.replace(/-/g, '').toUpperCase()}`]),
)

let local: EcsLocal
let stack: Stack
let stateDir = ''
const CLUSTER = 'iam-cluster'
const SERVICE = 'iam-backend'

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'ecs-local-iam-'))
  local = await startEcsLocal({
    runtime: 'simulated',
    stateDir,
    timings: { awsSecondsScale: 0.2 },
    simulated: {
      defaultBehaviour: { takesLock: true, startMs: 200 },
      images: {
        broken: { takesLock: true, healthy: false },
        crashlate: { takesLock: true, crashAfterMs: 6000 },
        'job:done': { takesLock: true, runMs: 300, http: false },
        'job:slow': { takesLock: true, runMs: 60_000, http: false },
      },
    },
  })
  stack = await createSampleStack(local, {
    cluster: CLUSTER,
    service: SERVICE,
    image: 'app:v1',
    jwtSecret: 'iam',
  })
})
afterAll(async () => {
  const host = local?.registryHost
  await local?.stop()
  untagRegistryImages(host)
  spawnSync('docker', ['rmi', 'lockstep-test/iam:1'], { stdio: 'ignore' })
  rmSync(stateDir, { recursive: true, force: true })
})

const run = (action: string, inputs: Record<string, string>) =>
  runAction(action, {
    inputs,
    env: { ...local.awsEnv(), AWS_ACCESS_KEY_ID: callers[action] as string, GITHUB_SHA: 'f'.repeat(40) },
    timeoutMs: 120_000,
  })

it('docs/iam-policy.json grants each action exactly what it calls', async () => {
  const base = { cluster: CLUSTER, service: SERVICE }
  execFileSync('docker', ['build', '--quiet', '--tag', 'lockstep-test/iam:1', buildContext('healthy')])
  const pushed = await run('push-ecr', {
    image: 'lockstep-test/iam:1',
    repository: 'iam-app',
    'create-repository': 'true',
  })
  expect(pushed.errors).toEqual([])
  const image = pushed.outputs['image-uri'] as string

  const deploy = { ...base, 'container-name': 'fastapi', 'stable-for': '1s', timeout: '60s' }
  // drain-connections-for: the delay lowered for the drain and put back.
  expect((await run('drain-and-deploy', { ...deploy, image, 'drain-connections-for': '1s' })).errors).toEqual(
    [],
  )
  expect((await run('verify-health', { ...base, 'stable-for': '1s' })).errors).toEqual([])
  const broken = await run('drain-and-deploy', { ...deploy, image: 'app:broken' })
  expect(broken.exitCode).toBe(1)

  // The last resort: no tag on the service names a revision to go back to.
  const tags = await stack.ecs.send(
    new ListTagsForResourceCommand({ resourceArn: (await serviceArn()) as string }),
  )
  await stack.ecs.send(
    new UntagResourceCommand({
      resourceArn: await serviceArn(),
      tagKeys: (tags.tags ?? []).map((t) => t.key as string),
    }),
  )
  const back = await run('rollback', { ...base, 'stable-for': '1s', 'drain-connections-for': '1s' })
  expect(back.log).toContain('rolling back to the next-older ACTIVE revision')
  expect(back.errors).toEqual([])
  const failed = await run('rollback', {
    ...base,
    to: broken.outputs['task-definition-arn'] as string,
    'stable-for': '1s',
    timeout: '30s',
  })
  expect(failed.exitCode).toBe(1)

  // A task that fails while verify-health checks: the service is scaled to 0.
  expect((await run('drain-and-deploy', { ...deploy, image: 'app:crashlate' })).errors).toEqual([])
  const crashed = await run('verify-health', { ...base, 'stable-for': '20s' })
  expect(crashed.errors[0]).toContain('scaled to 0')

  // A one-off task on the service's volumes, once the service is at 0: run to its end, then
  // cancelled (its task stopped).
  const job = {
    cluster: CLUSTER,
    service: SERVICE,
    'task-definition': await registerJob('job:done'),
    timeout: '60s',
  }
  expect((await run('drain-and-deploy', { ...deploy, 'desired-count': '0' })).errors).toEqual([])
  expect((await run('run-task', job)).errors).toEqual([])
  const cancelled = await runAction('run-task', {
    inputs: { ...job, 'task-definition': await registerJob('job:slow') },
    env: { ...local.awsEnv(), AWS_ACCESS_KEY_ID: callers['run-task'] as string },
    cancelWhen: /Started task/,
    timeoutMs: 60_000,
  })
  expect(cancelled.cancelledAt).toBeDefined()

  const byCaller = local.calls.byCaller()
  const report: Record<string, { missing: string[]; unused: string[] }> = {}
  for (const [action, prefix] of Object.entries(SID_PREFIX)) {
    const called = new Set(Object.keys(byCaller[callers[action] as string] ?? {}))
    const granted = new Set(
      policy.Statement.filter((s) => s.Sid.startsWith(prefix)).flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action],
      ),
    )
    report[action] = {
      missing: [...called].filter((a) => !granted.has(a)).sort(),
      unused: [...granted].filter((a) => !called.has(a) && !(UNSEEN[action] ?? []).includes(a)).sort(),
    }
  }
  expect(report).toEqual(
    Object.fromEntries(Object.keys(SID_PREFIX).map((action) => [action, { missing: [], unused: [] }])),
  )
})

/** A one-off job on the sample stack's EFS volumes; its slow variant runs until stopped. */
async function registerJob(image: string): Promise<string> {
  const { RegisterTaskDefinitionCommand } = await import('@aws-sdk/client-ecs')
  const reply = await stack.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'iam-job',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'job',
          image,
          essential: true,
          mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }],
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': `/ecs/${SERVICE}`,
              'awslogs-region': 'us-east-1',
              'awslogs-stream-prefix': 'job',
            },
          },
        },
      ],
      volumes: [{ name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-00b8168893587fd61' } }],
    }),
  )
  return reply.taskDefinition?.taskDefinitionArn as string
}

async function serviceArn(): Promise<string> {
  const { DescribeServicesCommand } = await import('@aws-sdk/client-ecs')
  const reply = await stack.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] }))
  return reply.services?.[0]?.serviceArn as string
}
