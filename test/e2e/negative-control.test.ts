import { describe, expect, it, jest } from '@jest/globals'
import { GetLogEventsCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { CLUSTER, useSampleStack } from '../support/sample-stack.ts'

// Real containers, real drains: each test deploys at least once.
jest.setTimeout(300_000)

/**
 * The negative control that proves the monitor and the sample's locks are real: on a service with
 * ECS's default deployment settings (100 % / 200 %), a plain rolling update starts the new task
 * while the old one still holds the volumes: the monitor shows the overlap and the new task dies
 * with "database is locked". drain-and-deploy on the same service shows neither.
 */
const SERVICE = 'control'
const env = useSampleStack({
  service: SERVICE,
  deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
  fileSystems: { data: 'fs-0control0data', database: 'fs-0control0vectors' },
})

function overlapsAcrossRevisions() {
  return env.local.report().overlaps.filter((o) => new Set(o.tasks.map((t) => t.taskDefinitionArn)).size > 1)
}

describe('negative control: the lock and the monitor are real', () => {
  it('a rolling update of the lock-taking backend overlaps two tasks and one fails with "database is locked"', async () => {
    const rolling = await env.run('drain-and-deploy', {
      cluster: CLUSTER,
      service: SERVICE,
      'container-name': 'fastapi',
      image: env.images.v2,
      strategy: 'rolling',
      'single-writer': 'false',
      timeout: '3m',
    })
    // ECS keeps the old task (minimum 100 %) and every new one finds the volume locked.
    expect(rolling.exitCode).toBe(1)
    expect(rolling.errors[0]).toMatch(/stopped during the deployment|FAILED/)
    expect(rolling.log).toContain('database is locked')
    const overlaps = overlapsAcrossRevisions()
    expect(overlaps.length).toBeGreaterThan(0)
    expect(overlaps[0]?.volume).toMatch(/fs-0control0(data|vectors)/)

    // The failed task's own log, through the CloudWatch Logs API.
    const logs = new CloudWatchLogsClient({
      endpoint: env.local.endpoint,
      region: env.local.region,
      credentials: { accessKeyId: 'AKIAE2E', secretAccessKey: 'x' },
    })
    const stopped = env.local
      .report()
      .timelines.find(
        (t) => t.taskDefinitionArn === rolling.outputs['task-definition-arn'] && t.lastStatus === 'STOPPED',
      )
    const events = await logs.send(
      new GetLogEventsCommand({
        logGroupName: `/ecs/${SERVICE}`,
        logStreamName: `fastapi/fastapi/${stopped?.taskId}`,
      }),
    )
    expect(events.events?.map((e) => e.message).join('\n')).toContain('database is locked')
  })

  it('drain-and-deploy on the same service replaces the task with no overlap', async () => {
    const overlapsBefore = overlapsAcrossRevisions().length
    // The rolling deployment above is still retrying: with `fail`, drain-and-deploy refuses to race it.
    const refused = await env.run('drain-and-deploy', {
      cluster: CLUSTER,
      service: SERVICE,
      'container-name': 'fastapi',
      image: env.images.v2,
      'if-deployment-in-progress': 'fail',
    })
    expect(refused.exitCode).toBe(1)
    expect(refused.errors[0]).toMatch(
      /^Another deployment of control is in progress: .*Nothing was changed\./,
    )
    // rollback does not wait for it: it drains everything and puts revision 1 back.
    const drained = await env.run('rollback', { cluster: CLUSTER, service: SERVICE, 'stable-for': '3s' })
    expect(drained.errors).toEqual([])
    expect(drained.outputs['rolled-back-to']).toMatch(/task-definition\/control:1$/)
    const started = Date.now()
    const again = await env.run('drain-and-deploy', {
      cluster: CLUSTER,
      service: SERVICE,
      'container-name': 'fastapi',
      image: env.images.v2,
      'stable-for': '3s',
    })
    expect(again.errors).toEqual([])
    expect(again.log).toContain('may run two at once: maximumPercent is 200')
    const newOverlaps = overlapsAcrossRevisions()
      .slice(overlapsBefore)
      .filter((o) => Date.parse(o.from) >= started)
    expect(newOverlaps).toEqual([])
  })
})
