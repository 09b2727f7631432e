import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'

/** The repository root, where actions/ and dist/ live. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

interface ActionYaml {
  inputs?: Record<string, { default?: string; required?: boolean; description?: string }>
  outputs?: Record<string, { description?: string }>
  runs: { using: string; main: string; post?: string; 'post-if'?: string }
}

export interface StepRun {
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** Everything the process wrote, in arrival order, before any masking: what a leak test reads. */
  raw: string
  /**
   * The raw output less its `::add-mask::` commands, which must carry the secret to the runner:
   * anywhere else in here a secret is a leak, whatever the runner would mask afterwards.
   */
  unmasked: string
  /** Each complete line of output with the time it arrived (epoch ms), as the runner timestamps them. */
  lines: { at: number; text: string }[]
  /** The log as the runner shows it: masked values replaced by ***, commands other than groups removed. */
  log: string
  errors: string[]
  warnings: string[]
  /** Every workflow command the runner would have obeyed, in order. */
  commands: WorkflowCommand[]
  summary: string
  outputs: Record<string, string>
  state: Record<string, string>
  ms: number
  /** When the runner's cancel began (SIGINT), if it did. */
  cancelledAt?: number
}

export interface ActionRun extends StepRun {
  /** The post step, when action.yml has one and its post-if held. */
  post?: StepRun
}

export interface RunOptions {
  /** Values for `with:`; inputs left out get action.yml's default, as on the runner. */
  inputs?: Record<string, string>
  /** The step's environment (AWS_*, GITHUB_SHA...); the runner's own variables are added. */
  env?: Record<string, string>
  cwd?: string
  /** Send SIGINT (then SIGTERM 7.5 s later, as the runner does) once the log matches this. */
  cancelWhen?: RegExp
  /** Cancel the same way this long after the main step started: a cancel at a random moment. */
  cancelAfterMs?: number
  /** SIGKILL the main step once the log matches this: a step that gets no chance to clean up. */
  killWhen?: RegExp
  /** Kill the step after this long: a hung action fails the test instead of hanging it. */
  timeoutMs?: number
  runPost?: boolean
}

export function readActionYaml(action: string): ActionYaml {
  return parseYaml(readFileSync(join(REPO_ROOT, 'actions', action, 'action.yml'), 'utf8')) as ActionYaml
}

/** Parses the `name<<DELIMITER … DELIMITER` format of GITHUB_OUTPUT and GITHUB_STATE files. */
export function parseCommandFile(text: string): Record<string, string> {
  const values: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string]
      const body: string[] = []
      while (++i < lines.length && lines[i] !== delimiter) body.push(lines[i] as string)
      values[name] = body.join('\n')
    } else if (line.includes('=')) {
      values[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return values
}

function unescapeData(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/** A workflow command the runner would obey. */
export interface WorkflowCommand {
  name: string
  properties: string
  value: string
}

/**
 * Reads stdout the way the runner does: a line is a command when, after leading whitespace, it
 * starts with `::name props::data` (or carries the legacy `##[name]`), except between
 * `::stop-commands::TOKEN` and `::TOKEN::`, where every line is shown as it is.
 */
function runnerView(raw: string): {
  log: string
  errors: string[]
  warnings: string[]
  commands: WorkflowCommand[]
} {
  const masks: string[] = []
  const errors: string[] = []
  const warnings: string[] = []
  const commands: WorkflowCommand[] = []
  const shown: string[] = []
  let stopToken: string | undefined
  for (const line of raw.split('\n')) {
    let text = line
    const trimmed = line.trimStart()
    if (stopToken !== undefined) {
      if (trimmed === `::${stopToken}::`) {
        stopToken = undefined
        continue
      }
    } else {
      const command = /^::([A-Za-z-]+)( [^:]*)?::(.*)$/.exec(trimmed)
      const legacy = /##\[([A-Za-z-]+)([^\]]*)\](.*)$/.exec(trimmed)
      if (command || legacy) {
        const [, name, properties, data] = (command ?? legacy) as unknown as [
          string,
          string,
          string | undefined,
          string,
        ]
        const value = unescapeData(data)
        commands.push({ name, properties: (properties ?? '').trim(), value })
        if (name === 'stop-commands') {
          stopToken = value
          continue
        }
        if (name === 'add-mask') {
          if (value) masks.push(value)
          continue
        }
        if (name === 'error') errors.push(value)
        if (name === 'warning') warnings.push(value)
        if (name === 'debug') continue
        text = name === 'group' || name === 'endgroup' ? trimmed : `${name}: ${value}`
      }
    }
    for (const mask of masks) text = text.split(mask).join('***')
    shown.push(text)
  }
  return { log: shown.join('\n'), errors, warnings, commands }
}

function baseEnvironment(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(INPUT_|STATE_|GITHUB_|RUNNER_|AWS_|ACTIONS_)/.test(key)) continue
    env[key] = value
  }
  return env
}

async function runStep(
  script: string,
  env: Record<string, string>,
  options: RunOptions,
  files: { output: string; summary: string; state: string },
): Promise<StepRun> {
  for (const file of Object.values(files)) writeFileSync(file, '')
  const started = Date.now()
  const child = spawn(process.execPath, [script], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let raw = ''
  let partial = ''
  const lines: { at: number; text: string }[] = []
  let cancelled = false
  let cancelledAt: number | undefined
  const timers: NodeJS.Timeout[] = []
  const cancel = () => {
    if (cancelled) return
    cancelled = true
    cancelledAt = Date.now()
    child.kill('SIGINT')
    timers.push(setTimeout(() => child.kill('SIGTERM'), 7500))
    timers.push(setTimeout(() => child.kill('SIGKILL'), 10_000))
  }
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8')
    raw += text
    const parts = (partial + text).split('\n')
    partial = parts.pop() ?? ''
    const at = Date.now()
    for (const line of parts) lines.push({ at, text: line })
    if (options.killWhen && options.killWhen.test(raw)) child.kill('SIGKILL')
    if (options.cancelWhen && options.cancelWhen.test(raw)) cancel()
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  if (options.timeoutMs) timers.push(setTimeout(() => child.kill('SIGKILL'), options.timeoutMs))
  if (options.cancelAfterMs !== undefined) timers.push(setTimeout(cancel, options.cancelAfterMs))
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
    child.on('close', (code, sig) => done([code, sig])),
  )
  timers.forEach(clearTimeout)
  if (partial) lines.push({ at: Date.now(), text: partial })
  return {
    exitCode,
    signal,
    raw,
    unmasked: raw
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n'),
    lines,
    ...runnerView(raw),
    summary: readFileSync(files.summary, 'utf8'),
    outputs: parseCommandFile(readFileSync(files.output, 'utf8')),
    state: parseCommandFile(readFileSync(files.state, 'utf8')),
    ms: Date.now() - started,
    ...(cancelledAt !== undefined ? { cancelledAt } : {}),
  }
}

/**
 * Runs actions/<action> from its bundle as the GitHub runner would: every declared input becomes
 * INPUT_<NAME> (with action.yml's default when not given), outputs, summary and state go through
 * their files, and the post step runs afterwards with the saved state as STATE_* variables.
 */
export async function runAction(action: string, options: RunOptions = {}): Promise<ActionRun> {
  const spec = readActionYaml(action)
  const declared = spec.inputs ?? {}
  const unknown = Object.keys(options.inputs ?? {}).filter((name) => !(name in declared))
  if (unknown.length > 0) throw new Error(`${action} has no input(s) ${unknown.join(', ')}`)

  const dir = mkdtempSync(join(tmpdir(), `runner-${action}-`))
  const files = { output: join(dir, 'output'), summary: join(dir, 'summary'), state: join(dir, 'state') }
  const env: Record<string, string> = {
    ...baseEnvironment(),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: dir,
    GITHUB_WORKSPACE: options.cwd ?? REPO_ROOT,
    GITHUB_ACTION: action,
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    ...options.env,
  }
  for (const [name, input] of Object.entries(declared)) {
    const value = options.inputs?.[name] ?? input.default ?? ''
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  try {
    const actionDir = join(REPO_ROOT, 'actions', action)
    const main = await runStep(resolve(actionDir, spec.runs.main), env, options, files)
    const postIf = spec.runs['post-if'] ?? 'always()'
    const postRuns =
      spec.runs.post && options.runPost !== false && (postIf === 'always()' || main.exitCode === 0)
    if (!postRuns || !spec.runs.post) return main
    const stateEnv = Object.fromEntries(Object.entries(main.state).map(([k, v]) => [`STATE_${k}`, v]))
    const post = await runStep(
      resolve(actionDir, spec.runs.post),
      { ...env, ...stateEnv },
      { ...options, cancelWhen: undefined, cancelAfterMs: undefined, killWhen: undefined },
      {
        ...files,
        state: join(dir, `post-state-${randomUUID()}`),
      },
    )
    return { ...main, post }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
