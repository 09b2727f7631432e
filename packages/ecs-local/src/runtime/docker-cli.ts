import { execFile, spawnSync } from 'node:child_process'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  timedOut: boolean
}

export interface CliOptions {
  /** Extra environment: values for `-e NAME` stay off the command line, DOCKER_CONFIG for logins. */
  env?: Record<string, string>
  input?: string
  timeoutMs?: number
}

/** Runs the docker CLI; a non-zero exit is a result, never an exception. */
export function docker(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'docker',
      args,
      {
        env: options.env ? { ...process.env, ...options.env } : process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 << 20,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: number | string; killed?: boolean }) | null
        const code = failure ? (typeof failure.code === 'number' ? failure.code : -1) : 0
        resolve({ code, stdout: stdout.trim(), stderr: stderr.trim(), timedOut: failure?.killed === true })
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

/** Like docker(), but throws with the CLI's own words when it fails. */
export async function dockerOk(args: string[], options: CliOptions = {}): Promise<string> {
  const result = await docker(args, options)
  if (result.code !== 0) {
    throw new Error(`docker ${args[0]} failed (${result.code}): ${result.stderr || result.stdout}`)
  }
  return result.stdout
}

/** True when a Docker engine answers (not just when the CLI exists). */
export function dockerEngineAnswers(): boolean {
  const result = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], {
    encoding: 'utf8',
    timeout: 10_000,
  })
  return result.status === 0 && result.stdout.trim() !== ''
}

/** Why the engine does not answer, in the CLI's words, for error messages. */
export function dockerEngineProblem(): string {
  const result = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], {
    encoding: 'utf8',
    timeout: 10_000,
  })
  if (result.error) return `the docker CLI could not be run (${result.error.message}): install docker.io`
  return (result.stderr || 'no answer').trim().split('\n').slice(-2).join(' ')
}
