import { afterAll, describe, expect, it } from '@jest/globals'
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  ListTagsForResourceCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs'
import { DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import { CreateLogGroupCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs'
import { startEcsLocal, ZERO_TIMINGS, type EcsLocal, type EcsLocalOptions } from '@ecs-lockstep/ecs-local'
import { REPO_ROOT } from '@ecs-lockstep/action-runner'
import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CLUSTER,
  NETWORK,
  clientsFor,
  createBalancer,
  describeService,
  describeTasks,
  registerTaskDefinition,
  tasksOf,
  until,
} from './support.ts'

const dirs: string[] = []
const running: EcsLocal[] = []
afterAll(async () => {
  for (const local of running) await local.stop().catch(() => undefined)
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-local-restart-'))
  dirs.push(dir)
  return dir
}

const OPTIONS: EcsLocalOptions = {
  runtime: 'simulated',
  registry: false,
  timings: { ...ZERO_TIMINGS, awsSecondsScale: 0.01 },
  simulated: { images: { 'logs:': { logs: ['api started on 8000'] } } },
}

async function start(dir: string): Promise<EcsLocal> {
  const local = await startEcsLocal({ ...OPTIONS, stateDir: dir })
  running.push(local)
  return local
}

async function stop(local: EcsLocal): Promise<void> {
  await local.stop()
  running.splice(running.indexOf(local), 1)
}

describe('persistence', () => {
  it('keeps every resource across a clean restart; tasks that were running are STOPPED with a reason and replaced', async () => {
    const dir = stateDir()
    const first = await start(dir)
    const c1 = clientsFor(first)
    await c1.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }))
    await c1.logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/kept' }))
    const lb = await createBalancer(c1.elb, 'kept')
    const td = await registerTaskDefinition(
      c1.ecs,
      [
        {
          name: 'api',
          image: 'logs:1',
          portMappings: [{ containerPort: 8000 }],
          logConfiguration: {
            logDriver: 'awslogs',
            options: { 'awslogs-group': '/ecs/kept', 'awslogs-stream-prefix': 'api' },
          },
        },
      ],
      { family: 'kept' },
    )
    await c1.ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'kept',
        taskDefinition: td,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
        loadBalancers: [{ targetGroupArn: lb.targetGroupArn, containerName: 'api', containerPort: 8000 }],
        tags: [{ key: 'team', value: 'wwhd' }],
      }),
    )
    const before = await until(async () => {
      const s = await describeService(c1.ecs, 'kept')
      return s.deployments?.[0]?.rolloutState === 'COMPLETED' && s
    })
    const [oldTask] = await tasksOf(c1.ecs, 'kept')
    await stop(first)

    const second = await start(dir)
    const c2 = clientsFor(second)
    const after = await describeService(c2.ecs, 'kept')
    expect(after.deployments?.[0]?.id).toBe(before.deployments?.[0]?.id)
    expect(after.events?.map((e) => e.message)).toEqual(
      expect.arrayContaining(before.events?.map((e) => e.message) ?? []),
    )
    expect(
      (await c2.ecs.send(new ListTagsForResourceCommand({ resourceArn: after.serviceArn }))).tags,
    ).toEqual([{ key: 'team', value: 'wwhd' }])
    const [stopped] = await describeTasks(c2.ecs, [oldTask as string])
    expect(stopped).toMatchObject({
      lastStatus: 'STOPPED',
      stoppedReason: 'ecs-local was shut down and removed the containers of this task',
    })
    const replacement = await until(async () => {
      const [task] = await describeTasks(c2.ecs, await tasksOf(c2.ecs, 'kept'))
      return task?.lastStatus === 'RUNNING' && task
    })
    expect(replacement.taskArn).not.toBe(oldTask)
    // Revisions go on where they were; the listener kept its port; old log lines are still there.
    const next = await registerTaskDefinition(c2.ecs, [{ name: 'api', image: 'logs:2' }], { family: 'kept' })
    expect(next.endsWith(':2')).toBe(true)
    const listeners = await c2.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.loadBalancerArn }))
    expect(`http://127.0.0.1:${listeners.Listeners?.[0]?.Port}`).toBe(lb.url)
    await until(async () => (await fetch(lb.url)).status === 200, {
      what: 'the listener to route to the new task',
    })
    const lines = await c2.logs.send(
      new FilterLogEventsCommand({ logGroupName: '/ecs/kept', filterPattern: '"api started"' }),
    )
    expect(lines.events?.length).toBe(2)
    // The monitor's history survived too: the first task's life ended at the shutdown.
    const lifetime = second.monitor.lifetimes().find((l) => l.taskArn === oldTask)
    expect(lifetime?.to).toBeGreaterThan(lifetime?.from as number)
    await stop(second)
  })

  it('after a crash (state left with running tasks) marks simulated tasks STOPPED: their containers are gone', async () => {
    const dir = stateDir()
    const first = await start(dir)
    const c1 = clientsFor(first)
    await c1.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }))
    const td = await registerTaskDefinition(c1.ecs, [{ name: 'job', image: 'app:1' }], { family: 'crash' })
    const run = await c1.ecs.send(
      new RunTaskCommand({ cluster: CLUSTER, taskDefinition: td, networkConfiguration: NETWORK }),
    )
    const arn = run.tasks?.[0]?.taskArn as string
    await until(async () => (await describeTasks(c1.ecs, [arn]))[0]?.lastStatus === 'RUNNING')
    // What a crash leaves behind: the state as last written while the task ran.
    await new Promise((resolve) => setTimeout(resolve, 250))
    copyFileSync(join(dir, 'state.json'), join(dir, 'crashed.json'))
    await stop(first)
    copyFileSync(join(dir, 'crashed.json'), join(dir, 'state.json'))
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).ecs.tasks[arn].lastStatus).toBe(
      'RUNNING',
    )

    const second = await start(dir)
    const [task] = await describeTasks(clientsFor(second).ecs, [arn])
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'ecs-local restarted: simulated containers do not survive a restart',
    })
    await stop(second)
  })
})

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'packages/ecs-local/src/cli.ts'), ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
      },
    )
  })
}

describe('the ecs-local CLI', () => {
  it('starts detached with a config file, answers status and report, serves AWS calls, and stops cleanly', async () => {
    const dir = stateDir()
    const config = join(dir, 'config.json')
    writeFileSync(config, JSON.stringify({ timings: ZERO_TIMINGS, faults: { throttleRate: 0 } }))
    const started = await cli([
      'start',
      '--detach',
      '--runtime',
      'simulated',
      '--no-registry',
      '--state-dir',
      dir,
      '--config',
      config,
    ])
    expect(started.stderr).toBe('')
    expect(started.code).toBe(0)
    const info = JSON.parse(readFileSync(join(dir, 'ecs-local.json'), 'utf8')) as {
      pid: number
      endpoint: string
    }
    expect(started.stdout).toContain(`ecs-local simulated runtime on ${info.endpoint}`)

    const status = await cli(['status', '--state-dir', dir])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({
      pid: info.pid,
      endpoint: info.endpoint,
      healthy: true,
      runtime: 'simulated',
    })
    const ecs = new ECSClient({
      endpoint: info.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIACLI', secretAccessKey: 'not-a-secret' },
    })
    await ecs.send(new CreateClusterCommand({ clusterName: 'from-cli' }))
    const report = await cli(['report', '--state-dir', dir])
    expect(JSON.parse(report.stdout)).toMatchObject({
      overlaps: [],
      calls: { AKIACLI: { 'ecs:CreateCluster': 1 } },
    })

    const stopped = await cli(['stop', '--state-dir', dir])
    expect(stopped.stdout).toContain(`ecs-local (pid ${info.pid}) stopped.`)
    expect(existsSync(join(dir, 'ecs-local.json'))).toBe(false)
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).ecs.clusters).toHaveProperty([
      'arn:aws:ecs:us-east-1:123456789012:cluster/from-cli',
    ])
    const after = await cli(['status', '--state-dir', dir])
    expect(after.code).toBe(1)
    expect(after.stderr).toContain('ecs-local is not running')
  })

  it('says clearly what is wrong', async () => {
    const dir = stateDir()
    const bad = await cli(['start', '--runtime', 'podman', '--state-dir', dir])
    expect(bad.code).toBe(1)
    expect(bad.stderr.trim()).toBe("--runtime must be docker, simulated or auto, not 'podman'")
    const noRegistry = await cli(['start', '--runtime', 'simulated', '--state-dir', dir], {
      PATH: '/nonexistent',
    })
    expect(noRegistry.code).toBe(1)
    expect(noRegistry.stderr.trim()).toBe(
      'docker-registry is not installed: apt-get install docker-registry (ECR needs it), or pass --no-registry to run without ECR.',
    )
    const noDocker = await cli(['start', '--runtime', 'docker', '--no-registry', '--state-dir', dir], {
      PATH: '/nonexistent',
    })
    expect(noDocker.code).toBe(1)
    expect(noDocker.stderr).toMatch(
      /^Docker is not reachable: .*install docker\.io.* or run ecs-local with runtime 'simulated'\./,
    )
    const typo = await cli(['launch'])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain("unknown command 'launch'")
  })
})
