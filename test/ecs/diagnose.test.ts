import { afterEach, expect, it } from '@jest/globals'
import type { Task } from '@aws-sdk/client-ecs'
import {
  createClients,
  diagnose,
  failedCheckInEvents,
  firstCauseLine,
  TaskTracker,
} from '@ecs-lockstep/ecs-deploy'
import { CLUSTER, REGION, ScriptedEcs, SERVICE, tdArn } from '../support/scripted-ecs.ts'

let ecs: ScriptedEcs | undefined
afterEach(() => ecs?.restore())

const at = (base: number, s: number) => new Date(base + s * 1000)

function task(id: string, revision: number, fields: Partial<Task>): Task {
  return {
    taskArn: `arn:aws:ecs:${REGION}:123456789012:task/${CLUSTER}/${id.padStart(32, '0')}`,
    taskDefinitionArn: tdArn(revision),
    group: `service:${SERVICE}`,
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    ...fields,
  }
}

it('leads with the earliest failure of the new revision, labels the lock failure beside it a consequence, and ignores what the drain stopped', async () => {
  ecs = new ScriptedEcs({ revisions: [41, 42], currentRevision: 42, runningTasks: 0, efs: true })
  const t0 = Date.now()
  // The old task, SIGKILLed by the drain after ignoring SIGTERM: stopped on purpose, not a failure.
  const old = task('a1', 41, {
    pullStoppedAt: at(t0, 0),
    startedAt: at(t0, 0),
    executionStoppedAt: at(t0, 2),
    stoppedAt: at(t0, 2),
    stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)',
    stopCode: 'ServiceSchedulerInitiated',
    containers: [{ name: 'api', exitCode: 137 }],
  })
  // The new task fails its load balancer checks; ECS starts its replacement while it still stops.
  const first = task('b2', 42, {
    pullStoppedAt: at(t0, 3),
    startedAt: at(t0, 4),
    executionStoppedAt: at(t0, 12),
    stoppedAt: at(t0, 13),
    stoppedReason: 'Task failed ELB health checks in (target-group tg)',
    stopCode: 'ServiceSchedulerInitiated',
    containers: [{ name: 'api', exitCode: 0 }],
  })
  const replacement = task('c3', 42, {
    pullStoppedAt: at(t0, 9),
    executionStoppedAt: at(t0, 10),
    stoppedAt: at(t0, 11),
    stoppedReason: 'Essential container in task exited',
    stopCode: 'EssentialContainerExited',
    containers: [{ name: 'api', exitCode: 1 }],
  })
  for (const t of [old, first, replacement]) ecs.tasks.set(t.taskArn as string, t)
  const tracker = new TaskTracker()
  tracker.observe([
    { ...first, attachments: [{ details: [{ name: 'privateIPv4Address', value: '10.0.0.7' }] }] },
  ])
  tracker.noteTargets([
    { id: '10.0.0.7', port: 8000, state: 'unhealthy', why: 'Health checks failed with these codes: [503]' },
  ])

  const diagnosis = await diagnose(
    createClients(REGION),
    { cluster: CLUSTER, service: SERVICE },
    {
      since: t0 - 500,
      revisionArn: tdArn(42),
      stoppedOnPurpose: new Set([old.taskArn as string]),
      tracker,
    },
  )
  expect(firstCauseLine(diagnosis)).toBe(
    `First cause: task ${'b2'.padStart(32, '0')} (wwhd-backend:42) stopped: Task failed ELB health checks in (target-group tg) [ServiceSchedulerInitiated] — api: exit 0; last failing health check: load balancer target 10.0.0.7:8000 unhealthy (Health checks failed with these codes: [503])`,
  )
  // Oldest first: the consequence stopped before its cause did, and says whose volume it hit.
  expect(diagnosis.failedTasks).toEqual([
    `task ${'c3'.padStart(32, '0')} (wwhd-backend:42) stopped: Essential container in task exited [EssentialContainerExited] — api: exit 1 ← consequence: ECS started it while task ${'b2'.padStart(32, '0')} (wwhd-backend:42) still held the volume`,
    `task ${'b2'.padStart(32, '0')} (wwhd-backend:42) stopped: Task failed ELB health checks in (target-group tg) [ServiceSchedulerInitiated] — api: exit 0 ← first cause`,
  ])
  expect(diagnosis.logs[0]?.title).toMatch(/^First cause: last 50 log lines of api in task 0+b2$/)
  expect(diagnosis.logs[1]?.title).toMatch(/^Consequence: /)
})

it("reads the failing health check from ECS's own service event for the task", () => {
  const events = [
    '(service wwhd-backend) has started 1 tasks: (task 9f3c).',
    '(service wwhd-backend) (task 9f3c) (port 8000) is unhealthy in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/wwhd-backend/4c1e) due to (reason Health checks failed with these codes: [503]).',
  ]
  expect(failedCheckInEvents(events, '9f3c')).toBe(
    'load balancer target group wwhd-backend on port 8000: Health checks failed with these codes: [503]',
  )
  expect(failedCheckInEvents(['(service s) (task 77) failed container health checks.'], '77')).toBe(
    'its container health check failed',
  )
  expect(failedCheckInEvents(events, '0000')).toBeUndefined()
})
