#!/usr/bin/env node
// `npm run pipeline`: the seed's deployment pipeline, end to end, on this machine. Starts ecs-local
// (real containers when a Docker engine answers, the simulated runtime otherwise), creates a cluster,
// an ALB with its target group, two EFS volumes and a service shaped like the seed's, then runs the
// bundled actions exactly as the GitHub runner would, in the pipeline's order. Prints a timeline and
// the invariant monitor's report, leaves every step's job summary in pipeline-output/, and exits
// non-zero if anything misbehaved.
import { runAction, type ActionRun } from '@ecs-lockstep/action-runner'
import { startEcsLocal } from '@ecs-lockstep/ecs-local'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import {
  buildSampleImage,
  prepareSampleContext,
  removeSampleContext,
} from '../examples/sample-backend/context.ts'
import { createSampleStack, SEED_CHECKS } from '../examples/sample-backend/stack.ts'
import { broken, describeOverlap, judgeOverlaps } from './overlaps.ts'

const ROOT = resolve(import.meta.dirname, '..')
const OUT = process.env.PIPELINE_OUTPUT ?? join(ROOT, 'pipeline-output')
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
  /** Not run here (no Docker): shown as such, never as a pass. */
  skipped?: boolean
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
  // Numbered by the steps that ran: the summaries start at 01- whatever was skipped.
  const index = String(steps.filter((s) => !s.skipped).length).padStart(2, '0')
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
    skipped: true,
    note: `skipped: ${why}`,
  })
  say(`– ${name}: skipped (${why})`)
}

async function main(): Promise<number> {
  rmSync(OUT, { recursive: true, force: true })
  for (const dir of ['summaries', 'logs']) mkdirSync(join(OUT, dir), { recursive: true })
  const sha = gitSha()
  const local = await startEcsLocal({
    stateDir: join(OUT, 'ecs-local'),
    // ECS_LOCAL_RUNTIME=simulated forces the simulated runtime on a machine that has Docker.
    runtime: (process.env.ECS_LOCAL_RUNTIME as 'docker' | 'simulated' | undefined) ?? 'auto',
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
      : `ecs-local at ${local.endpoint}: SIMULATED runtime (${process.env.ECS_LOCAL_RUNTIME ? 'ECS_LOCAL_RUNTIME=simulated' : 'no Docker engine answers'}): tasks are timed state machines; build, smoke-test and push are skipped`,
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
    const stack = await createSampleStack(local, {
      cluster: CLUSTER,
      service: SERVICE,
      image: initialImage,
      jwtSecret: JWT_SECRET,
    })
    say(
      `${SERVICE} runs ${stack.taskDefinitionArn.split('/').pop()}: one task, two containers, two EFS volumes, behind ${stack.url}`,
    )

    // Stability windows shorter than the defaults (30 s, 15 s): enough for this backend, which fails fast.
    const deployInputs = {
      cluster: CLUSTER,
      service: SERVICE,
      'container-name': 'fastapi',
      timeout: '10m',
      'stable-for': '5s',
    }
    const verifyInputs = {
      cluster: CLUSTER,
      service: SERVICE,
      'stable-for': '5s',
      ...(docker ? { checks: SEED_CHECKS } : {}),
      'create-users': docker ? USERS : '',
      // The seed's own users and passwords, weak as they are: accepted on purpose here.
      'allow-weak-passwords': 'true',
      timeout: '3m',
    }
    // Without Docker nothing is pushed: plain names, which the simulated runtime runs as they are.
    let image = `${REPOSITORY}:${sha.slice(0, 12)}`
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
      skipped('Build and smoke-test', 'simulated runtime')
      skipped('Push to ECR', 'simulated runtime')
    }
    await step('Drain and deploy', 'drain-and-deploy', { ...deployInputs, image }, env)
    await step('Verify health, create API users', 'verify-health', verifyInputs, env)

    let broken = `${REPOSITORY}:broken`
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
        {
          cluster: CLUSTER,
          service: SERVICE,
          reason: 'the broken build failed its health checks',
          'stable-for': '5s',
        },
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

  // The local tags pointing at this run's registry are of no use once it stops.
  const tagged = execFileSync('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((ref) => local.registryHost && ref.startsWith(`${local.registryHost}/`))
  if (docker && tagged.length > 0) execFileSync('docker', ['rmi', ...tagged], { stdio: 'ignore' })
  const report = local.report()
  writeFileSync(join(OUT, 'ecs-local-report.json'), JSON.stringify(report, null, 2))
  await local.stop()
  // The images this run built, and its build context: nothing of it stays on the machine (after
  // the stop: a tag still used by a task's container cannot be removed).
  if (docker)
    for (const ref of ['wwhd-backend:v0', `wwhd-backend:${sha.slice(0, 12)}`, 'wwhd-backend:broken'])
      spawnSync('docker', ['rmi', ref], { stdio: 'ignore' })
  removeSampleContext()

  const failedAttempts = steps
    .filter((s) => s.run && s.run.exitCode !== 0)
    .map((s) => ({ name: s.name, from: s.startedAt, to: s.startedAt + s.ms }))
  const judged = judgeOverlaps(report.overlaps, failedAttempts)
  const bad = broken(judged)
  const lines = [
    '',
    'Timeline',
    '',
    ...steps.map(
      (s) =>
        `${elapsed(s.startedAt)}  ${s.skipped ? '–' : s.ok ? '✔' : '✘'} ${s.name.padEnd(36)} ${(s.ms / 1000).toFixed(1).padStart(6)}s  ${s.note}`,
    ),
    '',
    `Invariant monitor (${report.runtime} runtime): ${report.lifetimes.length} task lifetimes recorded, ${report.overlaps.length} overlap(s) of two live tasks on one volume.`,
    ...judged.map((j) => `  ${describeOverlap(j)}`),
    ...(judged.length > bad.length
      ? [
          '  Accepted: when a task fails, ECS starts its replacement while the failed task is still stopping (aws/containers-roadmap 959);',
          '  the failing step scaled the service to 0 as soon as it saw the failure, which stopped the replacement. Never across revisions.',
        ]
      : []),
    '',
    `AWS calls by caller: ${JSON.stringify(report.calls)}`,
    `Job summaries and logs: ${join(OUT, 'summaries')}, ${join(OUT, 'logs')}; ecs-local's report: ${join(OUT, 'ecs-local-report.json')}`,
  ]
  console.log(lines.join('\n'))
  writeFileSync(join(OUT, 'timeline.txt'), lines.join('\n'))
  const misbehaved = steps.filter((s) => !s.ok).length + bad.length
  console.log(misbehaved === 0 ? '\nEverything behaved.' : `\n${misbehaved} thing(s) misbehaved.`)
  return misbehaved === 0 ? 0 : 1
}

process.exitCode = await main()
