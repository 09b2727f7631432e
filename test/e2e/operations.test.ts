import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs'
import { runAction } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSampleStack, type Stack } from '../../examples/sample-backend/stack.ts'
import { driveWorkflow, type Drive } from '../support/workflow-driver.ts'

jest.setTimeout(240_000)

/**
 * workflows/backend-operations.yml, every operation, driven step by step as the runner would (its
 * `if:` conditions, expressions and run steps; ecs-lockstep steps through their bundles) on
 * ecs-local's simulated runtime, with the workflow's own cluster, service and cleanup task names.
 * After each: the service's state read back, and no two tasks ever alive at once on a volume.
 */
const CLUSTER = 'wwhd-cluster'
const SERVICE = 'wwhd-backend'
const PASSWORD = 'bulk-import-password-0f3a9c'
let local: EcsLocal
let stack: Stack
let stateDir = ''
let checkout = ''

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'ecs-local-ops-'))
  checkout = mkdtempSync(join(tmpdir(), 'ops-checkout-'))
  local = await startEcsLocal({
    runtime: 'simulated',
    stateDir,
    timings: { awsSecondsScale: 0.2 },
    simulated: {
      // The sample backend's deep health check answers {"vector_store":"ok"}.
      defaultBehaviour: { takesLock: true, startMs: 200, answer: { vector_store: 'ok' } },
      images: {
        'cleanup:ok': {
          takesLock: true,
          runMs: 500,
          http: false,
          logs: ['[cleanup] cleared /data, /database'],
        },
        'cleanup:fails': { takesLock: true, runMs: 300, exitCode: 1, http: false, logs: ['[cleanup] fatal'] },
      },
    },
  })
  stack = await createSampleStack(local, {
    cluster: CLUSTER,
    service: SERVICE,
    image: 'wwhd-dev-backend:v1',
    jwtSecret: 'ops',
  })
  // The repository's import script, as a checkout would hold it: it reports what it was given.
  writeFileSync(
    join(checkout, 'api_bulk_import.py'),
    [
      'import os, sys, urllib.request',
      'args = sys.argv[1:]',
      'print("argv: " + " ".join(args))',
      'url = args[args.index("--api-url") + 1]',
      'with urllib.request.urlopen(url + "/health") as answer:',
      '    print("api health %d" % answer.status)',
      'print("user %s, password given: %s" % (os.environ.get("BULK_IMPORT_USERNAME"), bool(os.environ.get("BULK_IMPORT_PASSWORD"))))',
    ].join('\n'),
  )
})
afterAll(async () => {
  await local?.stop()
  rmSync(stateDir, { recursive: true, force: true })
  rmSync(checkout, { recursive: true, force: true })
})

function operate(operation: string, inputs: Record<string, string> = {}): Promise<Drive> {
  return driveWorkflow({
    workflow: 'backend-operations.yml',
    inputs: {
      operation,
      environment: 'dev',
      'desired-count': '1',
      'rollback-to': '',
      'import-pdf-folder': 'data/pdfs',
      'import-metadata-file': 'data/metadata.json',
      'import-namespace': 'general',
      ...inputs,
    },
    env: { API_URL: stack.url },
    secrets: { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/deploy', BULK_IMPORT_PASSWORD: PASSWORD },
    defaults: { 'stable-for': '2s' },
    processEnv: local.awsEnv(),
    cwd: checkout,
  })
}

const outcomes = (drive: Drive) =>
  Object.fromEntries(drive.steps.filter((s) => s.outcome !== 'skipped').map((s) => [s.id, s.outcome]))

async function service() {
  return (await stack.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] })))
    .services?.[0]
}

async function runningTasks(): Promise<string[]> {
  const arns =
    (await stack.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: SERVICE }))).taskArns ?? []
  if (arns.length === 0) return []
  const tasks =
    (await stack.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns }))).tasks ?? []
  return tasks.filter((t) => t.lastStatus === 'RUNNING').map((t) => t.taskArn as string)
}

const overlaps = (since: number) =>
  local.report().overlaps.filter((o) => Date.parse(o.to ?? new Date().toISOString()) >= since)

async function registerCleanup(image: string): Promise<void> {
  await stack.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'wwhd-cleanup',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'cleanup',
          image,
          essential: true,
          command: ['cleanup'],
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': `/ecs/${SERVICE}`,
              'awslogs-region': 'us-east-1',
              'awslogs-stream-prefix': 'cleanup',
            },
          },
          mountPoints: [
            { sourceVolume: 'data', containerPath: '/data' },
            { sourceVolume: 'database', containerPath: '/database' },
          ],
        },
      ],
      volumes: [
        { name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-00b8168893587fd61' } },
        { name: 'database', efsVolumeConfiguration: { fileSystemId: 'fs-0421d6926b3c7056d' } },
      ],
    }),
  )
}

describe('workflows/backend-operations.yml, driven as the runner would', () => {
  it('restart: a new task of the same revision, started after the old one STOPPED, verified', async () => {
    const before = await runningTasks()
    const since = Date.now()
    const drive = await operate('restart')
    expect(outcomes(drive)).toEqual({ aws: 'success', restart: 'success', verify: 'success' })
    const after = await runningTasks()
    expect(after).toHaveLength(1)
    expect(after).not.toEqual(before)
    expect((await service())?.taskDefinition).toBe(stack.taskDefinitionArn)
    expect(overlaps(since)).toEqual([])
  })

  it('scale to 0: no task left, nothing verified', async () => {
    const drive = await operate('scale', { 'desired-count': '0' })
    expect(outcomes(drive)).toEqual({ aws: 'success', scale: 'success' })
    expect(await runningTasks()).toEqual([])
    expect((await service())?.desiredCount).toBe(0)
  })

  it('clear-databases: stop, the cleanup task run to exit 0, start, verify', async () => {
    await registerCleanup('cleanup:ok')
    const since = Date.now()
    const drive = await operate('clear-databases')
    expect(outcomes(drive)).toEqual({
      aws: 'success',
      stop: 'success',
      cleanup: 'success',
      start: 'success',
      verify: 'success',
    })
    expect(drive.step('cleanup').run?.outputs['exit-code']).toBe('0')
    expect(drive.step('cleanup').run?.log).toContain('[cleanup] cleared /data, /database')
    expect((await service())?.runningCount).toBe(1)
    expect(overlaps(since)).toEqual([])
  })

  it('clear-databases whose cleanup fails: the service stays at 0 and the job says so', async () => {
    await registerCleanup('cleanup:fails')
    const since = Date.now()
    const drive = await operate('clear-databases')
    expect(outcomes(drive)).toEqual({
      aws: 'success',
      stop: 'success',
      cleanup: 'failure',
      'left-stopped': 'failure',
    })
    expect(drive.step('cleanup').run?.errors[0]).toMatch(/^Task [0-9a-f]+ failed: cleanup exited 1\./)
    expect(drive.step('left-stopped').output).toContain(
      `::error::The cleanup task did not finish cleanly (see the run-task step above: its exit code, log tail and state), so ${SERVICE} was left at 0 tasks.`,
    )
    expect(drive.failed).toBe(true)
    expect(await runningTasks()).toEqual([])
    expect(overlaps(since)).toEqual([])
  })

  it('scale to 1: started and verified', async () => {
    const drive = await operate('scale', { 'desired-count': '1' })
    expect(outcomes(drive)).toEqual({ aws: 'success', scale: 'success', verify: 'success' })
    expect(await runningTasks()).toHaveLength(1)
  })

  it('rollback: back to the revision verify-health recorded, drained first, verified again', async () => {
    // The last verify recorded :1; a new revision goes out without being verified.
    const deployed = await runAction('drain-and-deploy', {
      inputs: {
        cluster: CLUSTER,
        service: SERVICE,
        'container-name': 'fastapi',
        image: 'wwhd-dev-backend:v2',
        'stable-for': '1s',
      },
      env: local.awsEnv(),
      timeoutMs: 120_000,
    })
    expect(deployed.errors).toEqual([])
    expect((await service())?.taskDefinition).not.toBe(stack.taskDefinitionArn)
    const since = Date.now()
    const drive = await operate('rollback')
    expect(outcomes(drive)).toEqual({ aws: 'success', rollback: 'success', verify: 'success' })
    expect(drive.step('rollback').run?.outputs['rolled-back-to']).toBe(stack.taskDefinitionArn)
    expect(drive.step('rollback').run?.log).toContain('Reason: manual rollback by octocat (run 4242)')
    expect((await service())?.taskDefinition).toBe(stack.taskDefinitionArn)
    expect(overlaps(since)).toEqual([])
  })

  it('bulk-import: verified first, then the import script as the import user, the password only in its environment', async () => {
    const drive = await operate('bulk-import', { 'import-namespace': 'general' })
    expect(outcomes(drive)).toEqual({
      aws: 'success',
      verify: 'success',
      checkout: 'success',
      import: 'success',
    })
    const output = drive.step('import').output ?? ''
    expect(output).toContain(
      `argv: --pdf-folder data/pdfs --metadata-file data/metadata.json --api-url ${stack.url} --namespace general`,
    )
    expect(output).toContain('api health 200')
    expect(output).toContain('user bulk_import, password given: True')
    expect(output).not.toContain(PASSWORD)
  })
})
