import { afterEach, describe, expect, it } from '@jest/globals'
import { DescribeServicesCommand, type Service } from '@aws-sdk/client-ecs'
import { createClients, chooseRollbackTarget } from '@ecs-lockstep/ecs-deploy'
import { testContext } from '../support/action-context.ts'
import { CLUSTER, REGION, ScriptedEcs, SERVICE, tdArn, type ScriptOptions } from '../support/scripted-ecs.ts'

let fake: ScriptedEcs | undefined
let release: (() => void) | undefined
afterEach(() => {
  release?.()
  fake?.restore()
})

async function choose(options: Partial<ScriptOptions>, to?: string, mutate?: (f: ScriptedEcs) => void) {
  fake = new ScriptedEcs({ revisions: [38, 39, 40, 41], currentRevision: 41, runningTasks: 1, ...options })
  mutate?.(fake)
  release = testContext().release
  const clients = createClients(REGION)
  const service = (
    await clients.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] }))
  ).services?.[0] as Service
  return chooseRollbackTarget(clients, service, to).catch((error: Error) => error)
}

describe('chooseRollbackTarget', () => {
  it('takes the revision named in `to`', async () => {
    expect(await choose({}, 'wwhd-backend:39')).toEqual({
      arn: tdArn(39),
      reason: 'named in `to`',
      failingArn: tdArn(41),
    })
  })

  it('refuses `to` when it is the failing revision, deregistered, or unknown', async () => {
    expect(((await choose({}, 'wwhd-backend:41')) as Error).message).toContain(
      'wwhd-backend:41 is the revision being rolled back from',
    )
    const inactive = await choose({}, 'wwhd-backend:39', (f) => {
      ;(f.definitions.get(tdArn(39)) as { status: string }).status = 'INACTIVE'
    })
    expect((inactive as Error).message).toContain('that revision is INACTIVE (deregistered) and cannot run')
    expect(((await choose({}, 'wwhd-backend:7')) as Error).message).toContain('no such task definition')
  })

  it('prefers the last revision verify-health recorded', async () => {
    const target = await choose({
      tags: {
        'ecs-lockstep:verified-task-definition': tdArn(39),
        'ecs-lockstep:previous-task-definition': tdArn(40),
      },
    })
    expect(target).toEqual({
      arn: tdArn(39),
      reason: expect.stringContaining('verified healthy'),
      failingArn: tdArn(41),
    })
  })

  it('never picks the revision that is failing, even when it was recorded as verified', async () => {
    const target = await choose({
      tags: {
        'ecs-lockstep:verified-task-definition': tdArn(41),
        'ecs-lockstep:previous-task-definition': tdArn(40),
      },
    })
    expect(target).toEqual({
      arn: tdArn(40),
      reason: expect.stringContaining('ran before the last deploy'),
      failingArn: tdArn(41),
    })
  })

  it('skips a recorded revision that has since been deregistered', async () => {
    const target = await choose(
      {
        tags: {
          'ecs-lockstep:verified-task-definition': tdArn(40),
          'ecs-lockstep:previous-task-definition': tdArn(39),
        },
      },
      undefined,
      (f) => {
        ;(f.definitions.get(tdArn(40)) as { status: string }).status = 'INACTIVE'
      },
    )
    expect(target).toEqual({
      arn: tdArn(39),
      reason: expect.stringContaining('ran before the last deploy'),
      failingArn: tdArn(41),
    })
  })

  it("uses the service's other deployment when nothing is recorded", async () => {
    const target = await choose({ inProgressUntilMs: 60_000 }, undefined, (f) => {
      const other = f.service.deployments?.[1]
      if (other) other.taskDefinition = tdArn(38)
    })
    expect(target).toEqual({
      arn: tdArn(38),
      reason: expect.stringContaining("service's deployment"),
      failingArn: tdArn(41),
    })
  })

  it('falls back to the next-older ACTIVE revision, skipping deregistered ones', async () => {
    const target = await choose({}, undefined, (f) => {
      ;(f.definitions.get(tdArn(40)) as { status: string }).status = 'INACTIVE'
    })
    expect(target).toEqual({
      arn: tdArn(39),
      reason: 'the next-older ACTIVE revision (never verified)',
      failingArn: tdArn(41),
    })
  })

  it('says so when there is nothing to roll back to', async () => {
    const error = await choose({ revisions: [41] })
    expect((error as Error).message).toBe(
      'There is no revision to roll back to: wwhd-backend:41 failed and no other ACTIVE revision of its family exists. Nothing was changed.',
    )
  })

  it("after ECS's circuit breaker already switched back, redeploys that revision and names the failed one", async () => {
    const target = await choose(
      { tags: { 'ecs-lockstep:verified-task-definition': tdArn(40) } },
      undefined,
      (f) => {
        // ECS failed the deployment of 41 and made a deployment of 40 primary again.
        const failed = f.service.deployments?.[0]
        if (failed) Object.assign(failed, { status: 'ACTIVE', rolloutState: 'FAILED' })
        f.service.deployments?.unshift({
          id: 'ecs-svc/9',
          status: 'PRIMARY',
          taskDefinition: tdArn(40),
          rolloutState: 'IN_PROGRESS',
        })
        f.service.taskDefinition = tdArn(40)
      },
    )
    expect(target).toEqual({
      arn: tdArn(40),
      reason: expect.stringContaining('verified healthy'),
      failingArn: tdArn(41),
    })
  })

  it('treats the revision of a FAILED deployment as the failing one, whatever is primary', async () => {
    const target = await choose({ inProgressUntilMs: 60_000 }, undefined, (f) => {
      const other = f.service.deployments?.[1]
      if (other) Object.assign(other, { taskDefinition: tdArn(38), rolloutState: 'FAILED' })
    })
    // ECS failed the deployment of 38 and went back to 41: 41 is the target, 38 what failed.
    expect(target).toEqual({
      arn: tdArn(41),
      reason: expect.stringContaining("service's deployment"),
      failingArn: tdArn(38),
    })
  })
})
