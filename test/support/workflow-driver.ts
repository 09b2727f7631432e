import { readActionYaml, runAction, REPO_ROOT, type ActionRun } from '@ecs-lockstep/action-runner'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'

/**
 * Drives one job of a reference workflow the way the runner does, step by step: each step's `if:`
 * evaluated (default `success()`), `${{ }}` expressions in `with:` and `env:` resolved from the
 * inputs, env, secrets, github context and earlier steps' outputs and outcomes; ecs-lockstep steps
 * run through their bundles (main, then post), `run:` steps by bash as the runner invokes it. Third-party actions (checkout,
 * configure-aws-credentials) are not run: ecs-local's credentials are in the environment and the
 * working directory stands for the checkout. Only the expression forms these workflows use are
 * understood; anything else throws, so a workflow change cannot be silently misread.
 */

interface WorkflowStep {
  id?: string
  name?: string
  if?: string
  uses?: string
  run?: string
  shell?: string
  with?: Record<string, string | number | boolean>
  env?: Record<string, string>
}

interface Workflow {
  env?: Record<string, string>
  jobs: Record<string, { env?: Record<string, string>; steps: WorkflowStep[] }>
}

export interface StepResult {
  id: string
  kind: 'ecs-lockstep' | 'third-party' | 'run'
  outcome: 'success' | 'failure' | 'skipped'
  /** The action's name for ecs-lockstep steps. */
  action?: string
  run?: ActionRun
  /** A run step's output. */
  output?: string
  inputs?: Record<string, string>
}

export interface DriveOptions {
  workflow: string
  job?: string
  inputs: Record<string, string>
  /** Replaces the workflow's own env values (e.g. the API URL of the local stack). */
  env?: Record<string, string>
  secrets?: Record<string, string>
  /**
   * Inputs given to every ecs-lockstep step whose action declares them and whose `with:` leaves them
   * unset: shorter waits for tests (`stable-for`), never a change of what the workflow decides.
   */
  defaults?: Record<string, string>
  /** Process environment for every step: ecs-local's endpoint and credentials. */
  processEnv: Record<string, string>
  cwd?: string
}

export interface Drive {
  steps: StepResult[]
  step(id: string): StepResult
  failed: boolean
}

const OURS = /^ecs-lockstep\/ecs-lockstep\/actions\/([a-z-]+)@v1$/

type Context = Record<string, unknown>

/** Tokens of GitHub's expression language that these workflows use. */
function tokenize(text: string): string[] {
  const tokens: string[] = []
  const pattern = /\s*(?:('(?:[^']|'')*')|(==|!=|&&|\|\||!|\(|\))|([A-Za-z_][A-Za-z0-9_.-]*)|(\S))/y
  let match: RegExpExecArray | null
  while (pattern.lastIndex < text.length && (match = pattern.exec(text))) {
    if (match[4]) throw new Error(`workflow driver: unexpected ${match[4]} in expression ${text}`)
    const token = match[1] ?? match[2] ?? match[3]
    if (token !== undefined) tokens.push(token)
  }
  return tokens
}

function lookup(context: Context, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Context | undefined)?.[key], context)
}

function truthy(value: unknown): boolean {
  return value !== '' && value !== undefined && value !== null && value !== false && value !== 0
}

/** Evaluates an expression: literals, context paths, == != ! && || (), status functions. */
export function evaluate(text: string, context: Context, status: { failed: boolean }): unknown {
  const tokens = tokenize(text)
  let at = 0
  const peek = () => tokens[at]
  const next = () => tokens[at++]
  const primary = (): unknown => {
    const token = next()
    if (token === undefined) throw new Error(`workflow driver: expression ends early: ${text}`)
    if (token === '(') {
      const value = or()
      if (next() !== ')') throw new Error(`workflow driver: missing ) in ${text}`)
      return value
    }
    if (token === '!') return !truthy(primary())
    if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'")
    if (peek() === '(') {
      next()
      if (next() !== ')') throw new Error(`workflow driver: only argument-less functions: ${text}`)
      switch (token) {
        case 'always':
          return true
        case 'success':
          return !status.failed
        case 'failure':
          return status.failed
        case 'cancelled':
          return false
        default:
          throw new Error(`workflow driver: unknown function ${token}() in ${text}`)
      }
    }
    if (token === 'true') return true
    if (token === 'false') return false
    const value = lookup(context, token)
    return value === undefined ? '' : value
  }
  const comparison = (): unknown => {
    const left = primary()
    const op = peek()
    if (op !== '==' && op !== '!=') return left
    next()
    const right = primary()
    const equal = String(left).toLowerCase() === String(right).toLowerCase()
    return op === '==' ? equal : !equal
  }
  const and = (): unknown => {
    let value = comparison()
    while (peek() === '&&') {
      next()
      const right = comparison()
      value = truthy(value) ? right : value
    }
    return value
  }
  const or = (): unknown => {
    let value = and()
    while (peek() === '||') {
      next()
      const right = and()
      value = truthy(value) ? value : right
    }
    return value
  }
  const value = or()
  if (at !== tokens.length) throw new Error(`workflow driver: could not read ${text}`)
  return value
}

function interpolate(text: string, context: Context, status: { failed: boolean }): string {
  return text.replace(/\$\{\{(.*?)\}\}/gs, (_, expression: string) => {
    const value = evaluate(expression, context, status)
    return typeof value === 'boolean' ? String(value) : String(value ?? '')
  })
}

function runBash(
  script: string,
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'workflow-step-'))
  const file = join(dir, 'step.sh')
  writeFileSync(file, script)
  return new Promise((resolve) => {
    // What the runner runs for `shell: bash`.
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      cwd,
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true })
      resolve({ code: code ?? 1, output })
    })
  })
}

export async function driveWorkflow(options: DriveOptions): Promise<Drive> {
  const workflow = parse(readFileSync(join(REPO_ROOT, 'workflows', options.workflow), 'utf8')) as Workflow
  const jobName = options.job ?? (Object.keys(workflow.jobs)[0] as string)
  const job = workflow.jobs[jobName]
  if (!job) throw new Error(`workflow driver: no job ${jobName}`)
  const steps: Record<string, { outcome: string; outputs: Record<string, string> }> = {}
  const status = { failed: false }
  const context: Context = {
    inputs: options.inputs,
    secrets: options.secrets ?? {},
    vars: {},
    github: { actor: 'octocat', run_id: '4242', sha: 'f'.repeat(40), ref_name: 'main' },
    steps,
    env: {},
  }
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries({ ...workflow.env, ...job.env }))
    env[key] = interpolate(String(value), context, status)
  Object.assign(env, options.env)
  context.env = env

  const results: StepResult[] = []
  for (const [index, step] of job.steps.entries()) {
    const id = step.id ?? `step-${index + 1}`
    const condition = step.if ?? 'success()'
    // A condition without a status function gets success() && in front of it, as on the runner.
    const guarded = /\b(always|failure|success|cancelled)\(\)/.test(condition)
      ? condition
      : `success() && (${condition})`
    const kind = step.uses ? (OURS.test(step.uses) ? 'ecs-lockstep' : 'third-party') : 'run'
    if (!truthy(evaluate(guarded, context, status))) {
      steps[id] = { outcome: 'skipped', outputs: {} }
      results.push({ id, kind, outcome: 'skipped' })
      continue
    }
    const stepEnv: Record<string, string> = { ...env }
    for (const [key, value] of Object.entries(step.env ?? {}))
      stepEnv[key] = interpolate(String(value), context, status)
    let result: StepResult
    if (kind === 'ecs-lockstep') {
      const action = OURS.exec(step.uses as string)?.[1] as string
      const declared = Object.keys(readActionYaml(action).inputs ?? {})
      const defaults = Object.entries(options.defaults ?? {}).filter(
        ([key]) => declared.includes(key) && step.with?.[key] === undefined,
      )
      const inputs = Object.fromEntries(defaults)
      Object.assign(
        inputs,
        Object.fromEntries(
          Object.entries(step.with ?? {}).map(([key, value]) => [
            key,
            interpolate(String(value), context, status),
          ]),
        ),
      )
      // The post step runs right after the main step here, not at the end of the job: these
      // actions' post steps do nothing unless their main step was killed.
      const run = await runAction(action, {
        inputs,
        env: { ...options.processEnv, ...stepEnv },
        timeoutMs: 180_000,
      })
      result = { id, kind, action, run, inputs, outcome: run.exitCode === 0 ? 'success' : 'failure' }
      steps[id] = { outcome: result.outcome, outputs: run.outputs }
    } else if (kind === 'third-party') {
      result = { id, kind, outcome: 'success' }
      steps[id] = { outcome: 'success', outputs: {} }
    } else {
      const { code, output } = await runBash(
        interpolate(step.run as string, context, status),
        { ...options.processEnv, ...stepEnv },
        options.cwd ?? REPO_ROOT,
      )
      result = { id, kind, output, outcome: code === 0 ? 'success' : 'failure' }
      steps[id] = { outcome: result.outcome, outputs: {} }
    }
    if (result.outcome === 'failure') status.failed = true
    results.push(result)
  }
  return {
    steps: results,
    failed: status.failed,
    step(id) {
      const found = results.find((r) => r.id === id)
      if (!found) throw new Error(`no step ${id}`)
      return found
    },
  }
}
