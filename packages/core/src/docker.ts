import * as exec from '@actions/exec'
import { ActionError } from './errors.ts'
import * as log from './log.ts'

export interface DockerResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface DockerOptions {
  /** Written to the CLI's stdin (passwords go here, never on the command line). */
  input?: string
  /** Capture without echoing the command or its output to the log. */
  silent?: boolean
  /** Extra environment for the CLI, e.g. values for `docker run -e NAME` (kept off the command line). */
  env?: Record<string, string>
  /** Return a non-zero exit code instead of throwing. */
  allowFailure?: boolean
}

export class DockerError extends ActionError {
  readonly args: readonly string[]
  readonly result: DockerResult

  constructor(args: readonly string[], result: DockerResult, hint?: string) {
    const detail = lastLines(result.stderr || result.stdout, 15)
    super(
      `docker ${args[0]} failed with exit code ${result.exitCode}${detail ? `:\n${detail}` : ''}`,
      hint ? { hint } : {},
    )
    this.args = args
    this.result = result
  }
}

export function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n')
}

/** How a command line is echoed in the log: each argument quoted when it needs to be. */
function commandLine(args: string[]): string {
  return ['docker', ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')
}

/**
 * Runs the docker CLI with captured output; throws DockerError on failure unless allowFailure.
 * Unless silent, the command line and every output line are printed through the log, which keeps
 * a line of Docker's (or of a Dockerfile's RUN) from being obeyed as a workflow command.
 */
export async function docker(args: string[], options: DockerOptions = {}): Promise<DockerResult> {
  let result: DockerResult
  const echo = !(options.silent ?? false)
  if (echo) log.info(`[command]${commandLine(args)}`)
  try {
    result = await exec.getExecOutput('docker', args, {
      ignoreReturnCode: true,
      silent: true,
      ...(echo
        ? {
            listeners: {
              stdline: (line: string) => log.info(line),
              errline: (line: string) => log.info(line),
            },
          }
        : {}),
      ...(options.input !== undefined ? { input: Buffer.from(options.input) } : {}),
      ...(options.env ? { env: { ...(process.env as Record<string, string>), ...options.env } } : {}),
    })
  } catch (error) {
    throw new ActionError('The docker CLI could not be started.', {
      hint: 'Install Docker on the runner (GitHub-hosted Ubuntu runners have it) and make sure `docker` is on PATH.',
      cause: error,
    })
  }
  if (result.exitCode !== 0 && !options.allowFailure) throw new DockerError(args, result)
  return result
}

/** Fails early, with a way out, when the CLI is present but no engine answers. */
export async function assertDockerEngine(): Promise<void> {
  const result = await docker(['version', '--format', '{{.Server.Version}}'], {
    silent: true,
    allowFailure: true,
  })
  if (result.exitCode !== 0 || result.stdout.trim() === '') {
    throw new ActionError(
      `The Docker engine is not reachable: ${lastLines(result.stderr, 3) || 'no answer'}`,
      {
        hint: 'Start the Docker daemon (dockerd) or set DOCKER_HOST; GitHub-hosted Ubuntu runners have one running.',
      },
    )
  }
}

export async function hasBuildx(): Promise<boolean> {
  const result = await docker(['buildx', 'version'], { silent: true, allowFailure: true })
  return result.exitCode === 0
}

export interface ContainerState {
  running: boolean
  status: string
  exitCode: number
  oomKilled: boolean
  restartCount: number
  error: string
  startedAt: string
  finishedAt: string
}

/** The container's state, or undefined when it no longer exists. */
export async function inspectContainer(id: string): Promise<ContainerState | undefined> {
  const result = await docker(['container', 'inspect', '--format', '{{json .State}}|{{.RestartCount}}', id], {
    silent: true,
    allowFailure: true,
  })
  if (result.exitCode !== 0) return undefined
  const [stateJson = '{}', restarts = '0'] = result.stdout.trim().split('|')
  const state = JSON.parse(stateJson) as Record<string, unknown>
  return {
    running: state.Running === true,
    status: String(state.Status ?? 'unknown'),
    exitCode: Number(state.ExitCode ?? 0),
    oomKilled: state.OOMKilled === true,
    restartCount: Number(restarts),
    error: String(state.Error ?? ''),
    startedAt: String(state.StartedAt ?? ''),
    finishedAt: String(state.FinishedAt ?? ''),
  }
}

export async function containerLogs(id: string, tail: number): Promise<string> {
  const result = await docker(['logs', '--tail', String(tail), id], { silent: true, allowFailure: true })
  // Containers write to both streams; docker logs splits them back. Interleaving is lost, content is not.
  return [result.stdout.trimEnd(), result.stderr.trimEnd()].filter(Boolean).join('\n')
}

/** Removes a container and its anonymous volumes; true when there was one to remove. */
export async function removeContainer(id: string): Promise<boolean> {
  // Recent CLIs exit 0 from `rm --force` on a missing container, so ask first.
  if (!(await inspectContainer(id))) return false
  const result = await docker(['rm', '--force', '--volumes', id], { silent: true, allowFailure: true })
  return result.exitCode === 0
}

/** The host port Docker published for `containerPort`, e.g. 127.0.0.1:32768 → 32768. */
export async function publishedPort(id: string, containerPort: number): Promise<number> {
  const result = await docker(['port', id, `${containerPort}/tcp`], { silent: true })
  const match = /:(\d+)\s*$/m.exec(result.stdout.split('\n')[0] ?? '')
  if (!match)
    throw new ActionError(
      `Docker did not publish container port ${containerPort} (got "${result.stdout.trim()}").`,
    )
  return Number(match[1])
}
