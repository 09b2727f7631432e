#!/usr/bin/env node
// `npm run pipeline`: the seed's deployment pipeline, end to end, on this machine. Starts ecs-local
// (real containers when a Docker engine answers, the simulated runtime otherwise), creates a cluster,
// an ALB with its target group, two EFS volumes and a service shaped like the seed's, then runs the
// bundled actions exactly as the GitHub runner would, in the pipeline's order. Prints a timeline and
// the invariant monitor's report, leaves every step's job summary in pipeline-output/, and exits
// non-zero if anything misbehaved.
import { CreateLogGroupCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr'
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type ContainerDefinition,
} from '@aws-sdk/client-ecs'
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { runAction, type ActionRun } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { buildSampleImage, prepareSampleContext } from '../examples/sample-backend/context.ts'

const ROOT = resolve(import.meta.dirname, '..')
const OUT = join(ROOT, 'pipeline-output')
const CLUSTER = 'wwhd-cluster'
const SERVICE = 'wwhd-backend'
const REPOSITORY = 'wwhd-dev-backend'
const JWT_SECRET = 'local-pipeline-jwt-secret-not-for-production'
const USERS = 'testuser:testpass123\nbulk_import:bulk123'

interface StepRecord {
  name: string
  action: string
  expect: 'success' | 'failure'
  run?: ActionRun
  startedAt: number
  ms: number
  ok: boolean
  note: string
}

const steps: StepRecord[] = []
const pipelineStart = Date.now()
const elapsed = (at: number) => `${((at - pipelineStart) / 1000).toFixed(1).padStart(6)}s`

function say(line: string): void {
  console.log(`${elapsed(Date.now())}  ${line}`)
}

function gitSha(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
  } catch {
    return 'local0000000000000000000000000000000000'.slice(0, 40)
  }
}

/** Runs one bundled action as the runner would and records whether it did what the pipeline expects. */
async function step(
  name: string,
  action: string,
  inputs: Record<string, string>,
  env: Record<string, string>,
  expect: 'success' | 'failure' = 'success',
): Promise<ActionRun> {
  const startedAt = Date.now()
  say(`▶ ${name} (${action})`)
  const run = await runAction(action, { inputs, env, timeoutMs: 20 * 60_000 })
  const succeeded = run.exitCode === 0
  const ok = succeeded === (expect === 'success')
  const note = succeeded
    ? Object.entries(run.outputs)
        .filter(([k]) => /image-uri$|task-definition-arn$|rolled-back-to|seconds|url$/.test(k))
        .map(([k, v]) => `${k}=${v.split('/').pop()}`)
        .join(' ')
    : (run.errors[0]?.split('\n')[0] ?? `exit ${run.exitCode}`)
  const record: StepRecord = { name, action, expect, run, startedAt, ms: Date.now() - startedAt, ok, note }
  steps.push(record)
  const index = String(steps.length).padStart(2, '0')
  writeFileSync(join(OUT, 'summaries', `${index}-${action}.md`), `${run.summary}${run.post?.summary ?? ''}`)
  writeFileSync(
    join(OUT, 'logs', `${index}-${action}.log`),
    `${run.log}\n${run.post ? `--- post ---\n${run.post.log}` : ''}`,
  )
  const mark = ok
    ? succeeded
      ? '✔'
      : '✔ failed as expected:'
    : succeeded
      ? '✘ succeeded but should have failed'
      : '✘'
  say(`${mark} ${name} in ${(record.ms / 1000).toFixed(1)}s ${note}`)
  return run
}

function skipped(name: string, why: string): void {
  steps.push({
    name,
    action: '-',
    expect: 'success',
    startedAt: Date.now(),
    ms: 0,
    ok: true,
    note: `skipped: ${why}`,
  })
  say(`– ${name}: skipped (${why})`)
}

async function waitForSteadyService(ecs: ECSClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const service = (await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] })))
      .services?.[0]
    const primary = service?.deployments?.find((d) => d.status === 'PRIMARY')
    if (
      service?.deployments?.length === 1 &&
      primary?.rolloutState === 'COMPLETED' &&
      service.runningCount === 1
    )
      return
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error('the initial service did not become steady')
}

function containers(image: string, docker: boolean): ContainerDefinition[] {
  const logs = (prefix: string) => ({
    logDriver: 'awslogs' as const,
    options: {
      'awslogs-group': '/ecs/wwhd-backend',
      'awslogs-region': 'us-east-1',
      'awslogs-stream-prefix': prefix,
    },
  })
  return [
    {
      name: 'fastapi',
      image,
      essential: true,
      portMappings: [{ containerPort: 8000, protocol: 'tcp' }],
      environment: [
        { name: 'APP_ENV', value: 'production' },
        { name: 'QDRANT_URL', value: 'http://localhost:6333' },
        { name: 'SQLITE_PATH', value: '/data/app.db' },
        { name: 'CREATE_DEFAULT_USER', value: 'testuser:testpass123' },
      ],
      secrets: [
        { name: 'JWT_SECRET', valueFrom: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:wwhd/jwt' },
      ],
      mountPoints: [{ sourceVolume: 'wwhd-data', containerPath: '/data' }],
      ...(docker
        ? {
            healthCheck: {
              command: ['CMD', '/usr/local/bin/node', '/app/main.ts', 'healthcheck'],
              interval: 5,
              timeout: 3,
              retries: 2,
              startPeriod: 5,
            },
          }
        : {}),
      stopTimeout: 10,
      logConfiguration: logs('fastapi'),
    },
    {
      name: 'qdrant',
      image,
      essential: true,
      command: ['vector-store'],
      portMappings: [{ containerPort: 6333, protocol: 'tcp' }],
      mountPoints: [{ sourceVolume: 'wwhd-database', containerPath: '/database' }],
      stopTimeout: 10,
      logConfiguration: logs('qdrant'),
    },
  ]
}

/** A cluster, an ALB, two EFS volumes and a one-task service on revision 1, as in the seed. */
async function createInfrastructure(local: EcsLocal, initialImage: string): Promise<void> {
  const config = {
    endpoint: local.endpoint,
    region: local.region,
    credentials: { accessKeyId: local.awsEnv().AWS_ACCESS_KEY_ID as string, secretAccessKey: 'x' },
  }
  const ecs = new ECSClient(config)
  const elb = new ElasticLoadBalancingV2Client(config)
  await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }))
  await new CloudWatchLogsClient(config).send(
    new CreateLogGroupCommand({ logGroupName: '/ecs/wwhd-backend' }),
  )
  const lb = (
    await elb.send(
      new CreateLoadBalancerCommand({ Name: 'wwhd-alb', Subnets: ['subnet-local'], Type: 'application' }),
    )
  ).LoadBalancers?.[0]
  const tg = (
    await elb.send(
      new CreateTargetGroupCommand({
        Name: 'wwhd-backend',
        Protocol: 'HTTP',
        Port: 8000,
        VpcId: 'vpc-local',
        TargetType: 'ip',
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 2,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
      }),
    )
  ).TargetGroups?.[0]
  // The seed keeps the default 300 s; a single-task service serves nothing while draining anyway.
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: tg?.TargetGroupArn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }],
    }),
  )
  const listener = (
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb?.LoadBalancerArn,
        Protocol: 'HTTP',
        Port: 8080,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: tg?.TargetGroupArn }],
      }),
    )
  ).Listeners?.[0]
  say(
    `ALB wwhd-alb listening on http://${lb?.DNSName}:${listener?.Port}, target group wwhd-backend (deregistration delay 5s)`,
  )
  local.setSecrets({ 'arn:aws:secretsmanager:us-east-1:123456789012:secret:wwhd/jwt': JWT_SECRET })
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'wwhd-backend',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '2048',
      memory: '4096',
      containerDefinitions: containers(initialImage, local.runtime === 'docker'),
      volumes: [
        {
          name: 'wwhd-data',
          efsVolumeConfiguration: { fileSystemId: 'fs-00b8168893587fd61', transitEncryption: 'ENABLED' },
        },
        {
          name: 'wwhd-database',
          efsVolumeConfiguration: { fileSystemId: 'fs-0421d6926b3c7056d', transitEncryption: 'ENABLED' },
        },
      ],
    }),
  )
  await ecs.send(
    new CreateServiceCommand({
      cluster: CLUSTER,
      serviceName: SERVICE,
      taskDefinition: registered.taskDefinition?.taskDefinitionArn,
      desiredCount: 1,
      launchType: 'FARGATE',
      loadBalancers: [{ targetGroupArn: tg?.TargetGroupArn, containerName: 'fastapi', containerPort: 8000 }],
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ['subnet-local'], assignPublicIp: 'DISABLED' },
      },
      propagateTags: 'SERVICE',
    }),
  )
  say(
    `service ${SERVICE} created on ${registered.taskDefinition?.taskDefinitionArn?.split('/').pop()}; waiting for it to be steady`,
  )
  await waitForSteadyService(ecs, 5 * 60_000)
  say(`service ${SERVICE} is steady: one task, two containers, two EFS volumes`)
}

async function main(): Promise<number> {
  rmSync(OUT, { recursive: true, force: true })
  for (const dir of ['summaries', 'logs']) mkdirSync(join(OUT, dir), { recursive: true })
  const sha = gitSha()
  const local = await startEcsLocal({
    stateDir: join(OUT, 'ecs-local'),
    runtime: 'auto',
    // Real ECS durations in seconds (deregistration delay, health check intervals) run at this scale.
    timings: { awsSecondsScale: 1, healthyWithoutChecksMs: 5000 },
    simulated: {
      images: { broken: { healthy: false } },
      defaultBehaviour: { takesLock: true, startMs: 300 },
    },
  })
  const docker = local.runtime === 'docker'
  say(
    docker
      ? `ecs-local at ${local.endpoint}: Docker runtime (tasks are real containers), registry at ${local.registryHost}`
      : `ecs-local at ${local.endpoint}: no Docker engine answers, so the SIMULATED runtime runs tasks as timed state machines; build, smoke-test and push are skipped`,
  )
  const env = {
    ...local.awsEnv(),
    GITHUB_SHA: sha,
    GITHUB_REPOSITORY: 'ecs-lockstep/wwhd-backend',
    DOCKER_CONFIG: join(OUT, 'docker-config'),
  }
  try {
    let initialImage = `${REPOSITORY}:v0`
    let context = ''
    if (docker) {
      context = await prepareSampleContext()
      await buildSampleImage('wwhd-backend:v0', { version: '0.9.0' })
      const seed = await step(
        'Seed ECR with the running version',
        'push-ecr',
        { image: 'wwhd-backend:v0', repository: REPOSITORY, tags: 'v0', 'create-repository': 'true' },
        env,
      )
      initialImage = seed.outputs['image-uri'] ?? initialImage
    }
    await createInfrastructure(local, initialImage)

    const deployInputs = { cluster: CLUSTER, service: SERVICE, 'container-name': 'fastapi', timeout: '10m' }
    const verifyInputs = {
      cluster: CLUSTER,
      service: SERVICE,
      ...(docker ? { checks: '/health/deep 200 "vector_store":"ok"' } : {}),
      'create-users': docker ? USERS : '',
      timeout: '3m',
    }
    let image = `${local.registryHost ?? 'registry.local'}/${REPOSITORY}:${sha}`
    if (docker) {
      const smoke = await step(
        'Build and smoke-test',
        'build-and-smoke-test',
        {
          context,
          'build-args': 'VERSION=1.0.0',
          env: `JWT_SECRET=${JWT_SECRET}\nAPP_ENV=test`,
          image: `wwhd-backend:${sha.slice(0, 12)}`,
        },
        env,
      )
      const push = await step(
        'Push to ECR',
        'push-ecr',
        { image: smoke.outputs.image ?? '', repository: REPOSITORY },
        env,
      )
      image = push.outputs['image-uri'] ?? image
    } else {
      skipped('Build and smoke-test', 'no Docker engine')
      skipped('Push to ECR', 'no Docker engine')
    }
    await step('Drain and deploy', 'drain-and-deploy', { ...deployInputs, image }, env)
    await step('Verify health, create API users', 'verify-health', verifyInputs, env)

    let broken = `${local.registryHost ?? 'registry.local'}/${REPOSITORY}:broken`
    if (docker) {
      await step(
        'Smoke-test a broken build',
        'build-and-smoke-test',
        {
          context,
          'build-args': 'VARIANT=broken\nVERSION=1.0.1',
          env: `JWT_SECRET=${JWT_SECRET}`,
          image: 'wwhd-backend:broken',
          'health-timeout': '10s',
        },
        env,
        'failure',
      )
      const push = await step(
        'Push the broken build anyway',
        'push-ecr',
        { image: 'wwhd-backend:broken', repository: REPOSITORY, tags: `broken-${sha.slice(0, 12)}` },
        env,
      )
      broken = push.outputs['image-uri'] ?? broken
    }
    const failed = await step(
      'Deploy the broken build',
      'drain-and-deploy',
      { ...deployInputs, image: broken, timeout: '4m' },
      env,
      'failure',
    )
    // As the reference workflow: roll back only when the failed deploy had started the new revision.
    if (failed.outputs['deployment-id']) {
      await step(
        'Roll back',
        'rollback',
        { cluster: CLUSTER, service: SERVICE, reason: 'the broken build failed its health checks' },
        env,
      )
      await step(
        'Verify the rolled-back revision',
        'verify-health',
        { ...verifyInputs, 'create-users': '' },
        env,
      )
    }
  } catch (error) {
    say(`✘ the pipeline could not go on: ${(error as Error).message}`)
    steps.push({
      name: 'pipeline',
      action: '-',
      expect: 'success',
      startedAt: Date.now(),
      ms: 0,
      ok: false,
      note: (error as Error).message,
    })
  }

  const report = local.report()
  writeFileSync(join(OUT, 'ecs-local-report.json'), JSON.stringify(report, null, 2))
  await local.stop()

  const lines = [
    '',
    'Timeline',
    '',
    ...steps.map(
      (s) =>
        `${elapsed(s.startedAt)}  ${s.ok ? '✔' : '✘'} ${s.name.padEnd(36)} ${(s.ms / 1000).toFixed(1).padStart(6)}s  ${s.note}`,
    ),
    '',
    `Invariant monitor (${report.runtime} runtime): ${report.lifetimes.length} task lifetimes recorded, ${report.overlaps.length} overlap(s) of two live tasks on one volume.`,
    ...report.overlaps.map((o) => `  OVERLAP ${JSON.stringify(o)}`),
    '',
    `AWS calls by caller: ${JSON.stringify(report.calls)}`,
    `Job summaries and logs: ${join(OUT, 'summaries')}, ${join(OUT, 'logs')}; ecs-local's report: ${join(OUT, 'ecs-local-report.json')}`,
  ]
  console.log(lines.join('\n'))
  writeFileSync(join(OUT, 'timeline.txt'), lines.join('\n'))
  const misbehaved = steps.filter((s) => !s.ok).length + report.overlaps.length
  console.log(misbehaved === 0 ? '\nEverything behaved.' : `\n${misbehaved} thing(s) misbehaved.`)
  return misbehaved === 0 ? 0 : 1
}

process.exitCode = await main()
