import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs'
import {
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { runAction, type RunOptions } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSampleStack, waitForSteadyService, type Stack } from '../../examples/sample-backend/stack.ts'

jest.setTimeout(120_000)

/**
 * The rest of the deploy scenarios, bundled and run as the runner runs them, on ecs-local's
 * simulated runtime (timed containers that take the lock, no Docker): quick enough to cover a
 * missing image, throttling, a timeout, a step killed before it could clean up, and a deployment
 * already in progress.
 */
const CLUSTER = 'sim-cluster'
const SERVICE = 'sim-backend'
let local: EcsLocal
let stack: Stack
let stateDir = ''

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'ecs-local-sim-'))
  local = await startEcsLocal({
    runtime: 'simulated',
    stateDir,
    // AWS's seconds (health check intervals, deregistration delay) at a fifth of real time.
    timings: { awsSecondsScale: 0.2 },
    simulated: {
      defaultBehaviour: { takesLock: true, startMs: 200 },
      images: { slow: { startMs: 3000, takesLock: true } },
    },
  })
  stack = await createSampleStack(local, {
    cluster: CLUSTER,
    service: SERVICE,
    image: 'wwhd-dev-backend:v1',
    jwtSecret: 'sim',
  })
})
afterAll(async () => {
  await local?.stop()
  rmSync(stateDir, { recursive: true, force: true })
})

const run = (action: string, inputs: Record<string, string>, options: RunOptions = {}) =>
  runAction(action, { inputs, timeoutMs: 90_000, ...options, env: { ...local.awsEnv(), ...options.env } })
const deployInputs = { cluster: CLUSTER, service: SERVICE, 'container-name': 'fastapi' }

async function service() {
  return (await stack.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] })))
    .services?.[0]
}

function updates(since: number) {
  return local.calls.records.filter((r) => r.at >= since && r.operation === 'UpdateService')
}

async function setDeregistrationDelay(seconds: number) {
  const elb = new ElasticLoadBalancingV2Client({
    endpoint: local.endpoint,
    region: local.region,
    credentials: { accessKeyId: 'AKIASIM', secretAccessKey: 'x' },
  })
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: stack.targetGroupArn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(seconds) }],
    }),
  )
}

describe('drain-and-deploy on the simulated runtime', () => {
  it('stops before any change when the image is not in ECR: no drain happens', async () => {
    const since = Date.now()
    const deploy = await run('drain-and-deploy', {
      ...deployInputs,
      image: `${local.registryHost}/wwhd-dev-backend:never-pushed`,
    })
    expect(deploy.exitCode).toBe(1)
    expect(deploy.errors[0]).toMatch(
      /^Image .*wwhd-dev-backend:never-pushed does not exist in ECR \((RepositoryNotFound|ImageNotFound)Exception\)\. Nothing was changed\./,
    )
    expect(updates(since)).toEqual([])
    expect((await service())?.runningCount).toBe(1)
  })

  it('deploys through bursts of throttling: adaptive retries and patient waits, no failure', async () => {
    // A burst of 8 "Rate exceeded" answers: fewer than the SDK's 10 attempts, so every call gets through.
    local.faults.set({
      throttleNext: 8,
      operations: ['ecs:DescribeServices', 'ecs:DescribeTasks', 'ecs:ListTasks'],
    })
    const since = Date.now()
    const deploy = await run('drain-and-deploy', { ...deployInputs, image: 'wwhd-dev-backend:v2' })
    local.faults.set({})
    expect(deploy.errors).toEqual([])
    expect(deploy.exitCode).toBe(0)
    const throttled = local.calls.records.filter((r) => r.at >= since && r.error === 'ThrottlingException')
    expect(throttled).toHaveLength(8)
    expect(
      local.report().overlaps.filter((o) => new Set(o.tasks.map((t) => t.taskDefinitionArn)).size > 1),
    ).toEqual([])
  })

  it('honours the timeout during a slow drain and puts the old revision back', async () => {
    await setDeregistrationDelay(150) // 30 s at this scale
    const before = await service()
    const started = Date.now()
    const deploy = await run('drain-and-deploy', {
      ...deployInputs,
      image: 'wwhd-dev-backend:v3',
      timeout: '10s',
    })
    await setDeregistrationDelay(5)
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(deploy.exitCode).toBe(1)
    expect(deploy.errors[0]).toMatch(
      /^Timed out after [89]\.\ds waiting for every task of sim-backend to reach STOPPED\. Last seen: [0-9a-f]+ DEACTIVATING\./,
    )
    expect(deploy.log).toContain(
      `restored ${SERVICE} to ${before?.taskDefinition?.split('/').pop()} at 1 task(s)`,
    )
    expect(deploy.outputs['deployment-id']).toBeUndefined()
    expect((await service())?.desiredCount).toBe(1)
    await waitForSteadyService(stack.ecs, CLUSTER, SERVICE, 90_000)
  })

  it('when the step is killed mid-drain, its post step restores the service', async () => {
    await setDeregistrationDelay(100) // 20 s at this scale
    const before = await service()
    const deploy = await run(
      'drain-and-deploy',
      { ...deployInputs, image: 'wwhd-dev-backend:v4' },
      { killWhen: /to reach STOPPED/ },
    )
    await setDeregistrationDelay(5)
    expect(deploy.signal).toBe('SIGKILL')
    expect(deploy.state['restore-point']).toContain(before?.taskDefinition)
    expect(deploy.post?.exitCode).toBe(0)
    expect(deploy.post?.warnings.join('\n')).toContain(
      'The main step ended while changing sim-backend and could not restore it; restoring now.',
    )
    expect(deploy.post?.log).toContain(
      `restored ${SERVICE} to ${before?.taskDefinition?.split('/').pop()} at 1 task(s)`,
    )
    expect((await service())?.desiredCount).toBe(1)
    expect((await service())?.taskDefinition).toBe(before?.taskDefinition)
    await waitForSteadyService(stack.ecs, CLUSTER, SERVICE, 90_000)
  })

  it('waits for a deployment already in progress before touching the service', async () => {
    // Someone else's deployment whose task takes 3 s to start.
    const current = await service()
    await stack.ecs.send(
      new UpdateServiceCommand({
        cluster: CLUSTER,
        service: SERVICE,
        forceNewDeployment: true,
        taskDefinition: current?.taskDefinition,
      }),
    )
    const deploy = await run('drain-and-deploy', { ...deployInputs, image: 'wwhd-dev-backend:v5' })
    expect(deploy.errors).toEqual([])
    expect(deploy.log).toContain('Another deployment is in progress')
    expect(deploy.outputs['task-definition-arn']).toMatch(/sim-backend:\d+$/)
  })
})
