import * as core from '@actions/core'
import * as log from '@ecs-lockstep/core/log'
import type { Output } from './inputs.ts'
import {
  ActionError,
  type ActionContext,
  formatDuration,
  sleep,
  toSeconds,
  waitFor,
  WaitTimeoutError,
} from '@ecs-lockstep/core'
import {
  containerLogs,
  docker,
  hasBuildx,
  inspectContainer,
  assertDockerEngine,
  lastLines,
  publishedPort,
  removeContainer,
  type ContainerState,
} from '@ecs-lockstep/core/docker'
import { probe } from '@ecs-lockstep/core/http'
import { randomBytes } from 'node:crypto'
import { CONTAINER_STATE } from './state.ts'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const CONTAINER_LABEL = 'ecs-lockstep.smoke-test'
const LOG_LINES = 200
const PROBE_INTERVAL = { minMs: 500, maxMs: 500, factor: 1 }

export interface SmokeTestPlan {
  context: string
  dockerfile: string
  image: string
  platform: string
  buildArgs: Record<string, string>
  env: Record<string, string>
  port: number
  healthPath: string
  expectStatus: number
  healthTimeoutMs: number
  stableForMs: number
  runArgs: string[]
}

/** A failure of the running container: the report then carries its logs and exit state. */
class ContainerFailure extends ActionError {}

export async function buildImage(plan: SmokeTestPlan): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-build-'))
  const iidfile = join(dir, 'iid')
  const buildx = await hasBuildx()
  // `--build-arg NAME` without a value makes docker read it from its environment: values stay off the command line.
  const args = [
    ...(buildx ? ['buildx', 'build', '--load'] : ['build']),
    '--platform',
    plan.platform,
    '--file',
    plan.dockerfile,
    '--tag',
    plan.image,
    '--iidfile',
    iidfile,
    ...Object.keys(plan.buildArgs).flatMap((key) => ['--build-arg', key]),
    plan.context,
  ]
  try {
    if (!buildx) log.info('docker buildx is not installed; building with the classic builder.')
    const result = await docker(args, { env: plan.buildArgs, allowFailure: true })
    if (result.exitCode !== 0) {
      throw new ActionError(
        `The image did not build (docker exited with ${result.exitCode}):\n${lastLines(`${result.stdout}\n${result.stderr}`, 20)}`,
        {
          hint: `Reproduce locally with: docker build --platform ${plan.platform} -f ${plan.dockerfile} ${plan.context}`,
        },
      )
    }
    return (await readFile(iidfile, 'utf8')).trim()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export interface RunningContainer {
  id: string
  hostPort: number
  startedAt: number
}

/**
 * Starts the container; `created` hears of it as soon as it exists, so that it is removed however
 * the step ends, even when it exits before its port could be read.
 */
export async function startContainer(
  plan: SmokeTestPlan,
  created: (id: string) => void,
): Promise<RunningContainer> {
  const name = `lockstep-smoke-${randomBytes(4).toString('hex')}`
  const args = [
    'run',
    '--detach',
    '--name',
    name,
    '--label',
    `${CONTAINER_LABEL}=${process.env.GITHUB_RUN_ID ?? 'local'}`,
    '--platform',
    plan.platform,
    '--publish',
    `127.0.0.1::${plan.port}`,
    ...Object.keys(plan.env).flatMap((key) => ['--env', key]),
    ...plan.runArgs,
    plan.image,
  ]
  const result = await docker(args, { env: plan.env, allowFailure: true })
  const id = result.stdout.trim().split('\n').pop() ?? ''
  if (result.exitCode !== 0 || !id) {
    if (id) await removeContainer(id)
    throw new ActionError(`The container did not start: ${lastLines(result.stderr, 10)}`, {
      hint: 'Check `run-args` and that the image has an ENTRYPOINT or CMD.',
    })
  }
  created(id)
  const startedAt = Date.now()
  try {
    return { id, hostPort: await publishedPort(id, plan.port), startedAt }
  } catch (error) {
    const state = await inspectContainer(id)
    if (state?.running) throw error
    throw new ContainerFailure(`The container stopped right after it started: ${describeExit(state)}.`, {
      hint: 'Its last log lines are in the "Container diagnostics" group and the job summary.',
    })
  }
}

function describeExit(state: ContainerState | undefined): string {
  if (!state) return 'the container disappeared (removed by someone else?)'
  const oom = state.oomKilled ? ', killed for running out of memory (OOMKilled)' : ''
  return `exit code ${state.exitCode}${oom}${state.error ? `, ${state.error}` : ''}`
}

/**
 * Polls the health URL until it answers `expectStatus`; fails at once if the container exits.
 * Returns the milliseconds from the container's start to its first healthy answer.
 */
export async function waitUntilHealthy(
  plan: SmokeTestPlan,
  container: RunningContainer,
  signal: AbortSignal,
): Promise<number> {
  const url = `http://127.0.0.1:${container.hostPort}${plan.healthPath}`
  const started = container.startedAt
  log.info(`Probing ${url} every ${PROBE_INTERVAL.minMs}ms for up to ${toSeconds(plan.healthTimeoutMs)}s`)
  await waitFor({
    what: `GET ${plan.healthPath} to answer ${plan.expectStatus}`,
    deadline: started + plan.healthTimeoutMs,
    signal,
    interval: PROBE_INTERVAL,
    onProgress: (progress) => log.info(`  ${toSeconds(Date.now() - started)}s: ${progress}`),
    observe: async () => {
      const answer = await probe(url, { timeoutMs: Math.min(5000, plan.healthTimeoutMs), signal })
      if (answer.ok && answer.status === plan.expectStatus) return { done: true, value: undefined }
      const state = await inspectContainer(container.id)
      if (!state?.running) {
        throw new ContainerFailure(
          `The container stopped before answering healthy: ${describeExit(state)}.`,
          { hint: 'Its last log lines are in the "Container diagnostics" group and the job summary.' },
        )
      }
      return { done: false, progress: answer.ok ? `answered ${answer.status}` : answer.error }
    },
  }).catch((error: unknown) => {
    if (!(error instanceof WaitTimeoutError)) throw error
    throw new ContainerFailure(`The container never answered healthy. ${error.message}`, {
      hint: neverHealthyHint(plan, error.lastProgress),
    })
  })
  const ms = Date.now() - started
  log.info(`Answered ${plan.expectStatus} ${formatDuration(ms)} after the container started.`)
  return ms
}

/**
 * What to do, from what the probe last saw: an app that answered with the wrong status is
 * listening and needs its health endpoint looked at; one that never answered may listen on the
 * wrong address or port, or start too slowly.
 */
export function neverHealthyHint(plan: SmokeTestPlan, lastSeen: string): string {
  const answered = /^answered (\d{3})$/.exec(lastSeen)?.[1]
  if (answered)
    return `The app is listening and answered ${answered}, not ${plan.expectStatus}: see why ${plan.healthPath} says so in its logs (in the "Container diagnostics" group), or set expect-status if ${answered} is what it answers when healthy.`
  if (/no answer within/.test(lastSeen))
    return `Something accepted the connection on port ${plan.port} but never answered: the app may be stuck starting (a lock, a migration) or health-timeout may be too short for its start-up.`
  return `Nothing answered on port ${plan.port}: check that the app listens on 0.0.0.0:${plan.port} (not 127.0.0.1) and on the port given in port, and that health-timeout covers its start-up.`
}

/** Watches that the container keeps running for `stableForMs`, then checks it still answers healthy. */
export async function watchStable(
  plan: SmokeTestPlan,
  container: RunningContainer,
  signal: AbortSignal,
): Promise<void> {
  const until = Date.now() + plan.stableForMs
  const firstState = await inspectContainer(container.id)
  while (Date.now() < until) {
    await sleep(Math.min(500, until - Date.now()), signal)
    const state = await inspectContainer(container.id)
    if (!state?.running || state.restartCount !== firstState?.restartCount) {
      const elapsed = toSeconds(plan.stableForMs - (until - Date.now()))
      throw new ContainerFailure(
        `The container crashed ${elapsed}s after it first answered healthy: ${describeExit(state)}.`,
        {
          hint: 'Something fails shortly after start-up (a background job, a migration, a lock?). See the container logs.',
        },
      )
    }
  }
  const url = `http://127.0.0.1:${container.hostPort}${plan.healthPath}`
  const answer = await probe(url, { timeoutMs: 5000, signal })
  if (!answer.ok || answer.status !== plan.expectStatus) {
    throw new ContainerFailure(
      `The container answered healthy, but ${toSeconds(plan.stableForMs)}s later GET ${plan.healthPath} ${answer.ok ? `answered ${answer.status}` : `failed: ${answer.error}`}.`,
    )
  }
}

/**
 * Puts what a person needs to see the failure (logs, exit code, OOM) in the log and the summary,
 * and returns the last few log lines for the error annotation itself.
 */
export async function reportContainerFailure(
  ctx: ActionContext<Output>,
  containerId: string,
): Promise<string> {
  const state = await inspectContainer(containerId)
  const logs = await containerLogs(containerId, LOG_LINES)
  const status = state
    ? `status=${state.status} exitCode=${state.exitCode} oomKilled=${state.oomKilled}${state.error ? ` error=${state.error}` : ''}`
    : 'the container no longer exists'
  core.startGroup('Container diagnostics')
  log.info(status)
  log.info(`--- last ${LOG_LINES} log lines ---`)
  log.info(logs || '(the container wrote no logs)')
  core.endGroup()
  ctx.report.fact('Container state', status)
  ctx.report.section(`Container logs (last ${LOG_LINES} lines)`, logs || '(the container wrote no logs)', {
    open: true,
  })
  return lastLines(logs, 5)
}

/** The same failure, with the container's last log lines where the reader looks first. */
export function withLogTail(error: unknown, tail: string): unknown {
  if (!(error instanceof ContainerFailure) || !tail) return error
  return new ActionError(`${error.message}\nLast log lines:\n${tail}`, error.hint ? { hint: error.hint } : {})
}

/** Build, run, wait for health, watch; the container is removed however this ends. */
export async function smokeTest(ctx: ActionContext<Output>, plan: SmokeTestPlan): Promise<void> {
  await assertDockerEngine()

  const imageId = await ctx.phase('Build', () => buildImage(plan))
  ctx.output('image', plan.image)
  ctx.output('image-id', imageId)
  ctx.report.fact('Image', plan.image)
  ctx.report.fact('Image ID', imageId)

  let containerId = ''
  const created = (id: string) => {
    containerId = id
    core.saveState(CONTAINER_STATE, id)
    ctx.defer(async () => {
      if (await removeContainer(id)) log.info(`Removed test container ${id.slice(0, 12)}.`)
      core.saveState(CONTAINER_STATE, '')
    })
  }
  try {
    const container = await ctx.phase('Start container', () => startContainer(plan, created))
    const msToHealthy = await ctx.phase(`Wait for ${plan.healthPath}`, () =>
      waitUntilHealthy(plan, container, ctx.signal),
    )
    ctx.output('seconds-to-healthy', toSeconds(msToHealthy))
    ctx.report.fact('Healthy after', `${toSeconds(msToHealthy)}s`)
    if (plan.stableForMs > 0) {
      await ctx.phase(`Stay up for ${toSeconds(plan.stableForMs)}s`, () =>
        watchStable(plan, container, ctx.signal),
      )
    }
  } catch (error) {
    if (!(error instanceof ContainerFailure) && !ctx.signal.aborted) throw error
    if (!containerId) throw error
    throw withLogTail(error, await reportContainerFailure(ctx, containerId))
  }
  ctx.report.headline = `${plan.image} built, answered ${plan.expectStatus} and stayed up`
}
