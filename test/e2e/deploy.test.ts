import { describe, expect, it, jest } from '@jest/globals'
import { DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand } from '@aws-sdk/client-ecs'
import {
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { SEED_CHECKS, waitForSteadyService } from '../../examples/sample-backend/stack.ts'
import { CLUSTER, useSampleStack } from '../support/sample-stack.ts'
import { keepLongPollOpen } from '../support/load-balancer.ts'

// Real containers, real drains: each test deploys at least once.
jest.setTimeout(300_000)

/**
 * The deploy actions end to end, bundled and run as the runner runs them, against ecs-local on
 * the real Docker engine: the sample backend's api and vector store really lock their EFS data, and
 * ecs-local's monitor watches that no two tasks ever hold a volume at once.
 */
const SERVICE = 'wwhd-backend'
const env = useSampleStack({ service: SERVICE })
// Short stability windows: these tests are about the drain and the checks, not about waiting.
const deployInputs = { cluster: CLUSTER, service: SERVICE, 'container-name': 'fastapi', 'stable-for': '3s' }
const verifyInputs = {
  cluster: CLUSTER,
  service: SERVICE,
  checks: SEED_CHECKS,
  'stable-for': '3s',
}

async function service() {
  return (
    await env.stack.ecs.send(
      new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE], include: ['TAGS'] }),
    )
  ).services?.[0]
}

async function runningTasks() {
  const arns =
    (await env.stack.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: SERVICE }))).taskArns ??
    []
  if (arns.length === 0) return []
  return (await env.stack.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns }))).tasks ?? []
}

function overlapsAcrossRevisions() {
  return env.local.report().overlaps.filter((o) => new Set(o.tasks.map((t) => t.taskDefinitionArn)).size > 1)
}

describe('drain-and-deploy, verify-health and rollback on ecs-local (Docker runtime)', () => {
  it('deploys a new revision, never two tasks on the volumes, and verify-health records it', async () => {
    const before = await runningTasks()
    const deploy = await env.run('drain-and-deploy', { ...deployInputs, image: env.images.v2 })
    expect(deploy.errors).toEqual([])
    expect(deploy.exitCode).toBe(0)
    expect(deploy.outputs['previous-task-definition-arn']).toBe(env.stack.taskDefinitionArn)
    expect(deploy.outputs['task-definition-arn']).toMatch(/task-definition\/wwhd-backend:2$/)
    expect(Number(deploy.outputs['drain-seconds'])).toBeGreaterThan(0)
    expect(deploy.summary).toMatch(/\| ✅ Drain \|/)
    const after = await runningTasks()
    expect(after.map((t) => t.taskDefinitionArn)).toEqual([deploy.outputs['task-definition-arn']])
    // The old task was STOPPED before the new one was created.
    const old = env.local.report().timelines.find((t) => t.taskArn === before[0]?.taskArn)
    const stoppedAt = old?.history.find((h) => h.status === 'STOPPED')?.at ?? ''
    const created =
      env.local.report().timelines.find((t) => t.taskArn === after[0]?.taskArn)?.history[0]?.at ?? ''
    expect(Date.parse(created)).toBeGreaterThanOrEqual(Date.parse(stoppedAt))
    expect(env.local.report().overlaps).toEqual([])

    const verify = await env.run('verify-health', {
      ...verifyInputs,
      'create-users': 'bulk_import:bulk123',
      'allow-weak-passwords': 'true',
    })
    expect(verify.errors).toEqual([])
    expect(verify.outputs['verified-task-definition']).toBe(deploy.outputs['task-definition-arn'])
    expect((await service())?.tags).toEqual(
      expect.arrayContaining([
        { key: 'ecs-lockstep:verified-task-definition', value: deploy.outputs['task-definition-arn'] },
      ]),
    )
  })

  it('redeploys the same revision: drains and restarts it without registering a new one', async () => {
    const before = await runningTasks()
    const deploy = await env.run('drain-and-deploy', {
      cluster: CLUSTER,
      service: SERVICE,
      'stable-for': '3s',
    })
    expect(deploy.errors).toEqual([])
    expect(deploy.outputs['task-definition-arn']).toBe(deploy.outputs['previous-task-definition-arn'])
    const after = await runningTasks()
    expect(after).toHaveLength(1)
    expect(after[0]?.taskArn).not.toBe(before[0]?.taskArn)
    expect(env.local.report().overlaps).toEqual([])
  })

  it('rolls back after a failed health check, to the revision verify-health recorded', async () => {
    const good = (await service())?.taskDefinition
    // The api answers /health, but its deep check cannot reach the vector store: ECS says healthy, verify-health does not.
    const deploy = await env.run('drain-and-deploy', {
      ...deployInputs,
      'environment-variables': 'QDRANT_URL=http://localhost:6399',
    })
    expect(deploy.exitCode).toBe(0)
    const verify = await env.run('verify-health', { ...verifyInputs, timeout: '20s' })
    expect(verify.exitCode).toBe(1)
    expect(verify.errors[0]).toContain('GET Qdrant database: answered 503 (expected 200)')
    expect(verify.outputs['verified-task-definition']).toBeUndefined()

    const rollback = await env.run('rollback', {
      cluster: CLUSTER,
      service: SERVICE,
      reason: 'deep check failed',
      'stable-for': '3s',
    })
    expect(rollback.errors).toEqual([])
    expect(rollback.outputs['rolled-back-to']).toBe(good)
    expect(rollback.outputs['rolled-back-from']).toBe(deploy.outputs['task-definition-arn'])
    expect(rollback.log).toContain('the last revision verified healthy')
    expect(rollback.summary).toContain('deep check failed')
    const again = await env.run('verify-health', verifyInputs)
    expect(again.errors).toEqual([])
    expect(overlapsAcrossRevisions()).toEqual([])
  })

  it('stops at the first failed task of a broken build, names it as the cause, and rolls back', async () => {
    const good = (await service())?.taskDefinition
    const deploy = await env.run('drain-and-deploy', {
      ...deployInputs,
      image: env.images.broken,
      timeout: '4m',
    })
    expect(deploy.exitCode).toBe(1)
    // The first task ECS stopped for failing its health checks ends the attempt: no crash loop.
    expect(deploy.errors[0]).toMatch(
      /^New task ([0-9a-f]+) \(wwhd-backend:\d+\) (stopped|is being stopped \(\w+\)): Task failed (ELB|container) health checks.*On a single-writer service the first failed task ends the attempt/,
    )
    const failed = /^New task ([0-9a-f]+)/.exec(deploy.errors[0] ?? '')?.[1]
    expect(deploy.errors[0]).toContain(`First cause: task ${failed} (`)
    expect(deploy.errors[0]).toMatch(/was scaled to 0 and every task is STOPPED/)
    expect(deploy.errors[0]).toMatch(
      /State now \(read back from ECS\): wwhd-backend desired 0, running 0, .*tasks not STOPPED: none\./,
    )
    expect(deploy.outputs['deployment-id']).toMatch(/^ecs-svc\//)
    expect(deploy.summary).toContain('First cause')
    expect(deploy.summary).toContain('Service events since the deploy began')
    expect(deploy.errors[0]).toContain('Run the rollback action')

    const rollback = await env.run('rollback', { cluster: CLUSTER, service: SERVICE, 'stable-for': '3s' })
    expect(rollback.errors).toEqual([])
    expect(rollback.outputs['rolled-back-to']).toBe(good)
    expect(rollback.outputs['rolled-back-from']).toBe(deploy.outputs['task-definition-arn'])
    expect((await env.run('verify-health', verifyInputs)).exitCode).toBe(0)
    expect(overlapsAcrossRevisions()).toEqual([])
  })

  it('restores the service when the workflow is cancelled mid-drain', async () => {
    const elb = new ElasticLoadBalancingV2Client({
      endpoint: env.local.endpoint,
      region: env.local.region,
      credentials: { accessKeyId: 'AKIAE2E', secretAccessKey: 'x' },
    })
    const setDelay = (seconds: number) =>
      elb.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: env.stack.targetGroupArn,
          Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(seconds) }],
        }),
      )
    await setDelay(30)
    // A client's event stream keeps the target draining for the whole delay (an idle one would not).
    const stopStream = keepLongPollOpen(`${env.stack.url}/api/v1/events`)
    const before = await service()
    const [oldTask] = await runningTasks()
    const deploy = await env.run(
      'drain-and-deploy',
      { ...deployInputs, image: env.images.v2 },
      { cancelWhen: /waiting for 1 task\(s\) to reach STOPPED/ },
    )
    stopStream()
    await setDelay(5)
    // The drain outlasts the runner's 10 s before its SIGKILL: nothing is started beside the
    // draining task; the post step finishes the drain and the restore.
    // It ended by itself, with its error, before the runner's SIGKILL (a timing bound would only
    // measure the machine's load).
    expect(deploy.signal).toBeNull()
    expect(deploy.exitCode).toBe(1)
    expect(deploy.errors[0]).toMatch(
      /^Cancelled while draining\. Every task must be STOPPED before wwhd-backend:\d+ starts again.*post step finishes the drain/s,
    )
    expect(deploy.post?.exitCode).toBe(0)
    expect(deploy.post?.log).toContain(
      `Restored ${SERVICE} to ${before?.taskDefinition?.split('/').pop()} at 1 task(s) after every task had STOPPED.`,
    )
    const after = await service()
    expect(after?.desiredCount).toBe(1)
    expect(after?.taskDefinition).toBe(before?.taskDefinition)
    await waitForSteadyService(env.stack.ecs, CLUSTER, SERVICE, 120_000)
    expect((await env.run('verify-health', verifyInputs)).exitCode).toBe(0)
    expect(
      env.local.report().overlaps.filter((o) => o.tasks.some((t) => t.taskArn === oldTask?.taskArn)),
    ).toEqual([])
  })
})
