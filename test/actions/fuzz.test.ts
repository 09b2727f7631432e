import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { readActionYaml, runAction, type ActionRun } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSampleStack } from '../../examples/sample-backend/stack.ts'

jest.setTimeout(15 * 60_000)

/**
 * Hostile input, every input of every action, one at a time: each bundle run as the runner runs it
 * against ecs-local, with the other inputs at values that stop the step before any change (a
 * cluster whose image is not in ECR, a URL where nothing listens, a context that does not exist).
 * For each case: a non-zero exit with an error naming the input (or, for the values listed as
 * valid, whatever the step then does), no mutating AWS call by this case, no workflow command the
 * action did not mean to give, no annotation over 4 KB, done within 30 s, no secret in the output.
 */
const HOSTILE: [label: string, value: string][] = [
  ['empty', ''],
  ['random', 'q8zk3vx1'],
  ['100 KB', 'a'.repeat(102_400)],
  ['malformed', '%%%{{}}<<>>'],
  ['shell metacharacters', '$(touch /tmp/pwned); `id` | rm -rf / && echo PWNED'],
  ['newline set-output', 'ok\n::set-output name=pwned::PWNED\nok'],
  ['CRLF add-mask', 'ok\r\n::add-mask::PWNED\r\nok'],
  ['newline stop-commands', 'ok\n::stop-commands::PWNEDTOKEN\nok'],
  ['newline error', 'ok\n::error::PWNED\nok'],
  ['starts with ::', '::warning::PWNED'],
  ['legacy ##[', '##[set-output name=pwned;]PWNED'],
  ['RTL override', 'abc\u202eevil'],
  ['zero-width', 'ab\u200bc'],
  ['combining marks', 'e\u0301\u0301\u0301'],
  ['YAML bomb', 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: [*c,*c]'],
  ['JSON bomb', `${'['.repeat(5000)}${']'.repeat(5000)}`],
  ['path traversal', '../../../../etc/passwd'],
]

/**
 * Values the step accepts for an input, beside an empty value for an optional input (its default):
 * it goes on with them, and fails later on the baseline or succeeds. Exact: a value listed here
 * must be accepted, any other refused with an error naming the input.
 */
const VALID: Record<string, Record<string, string[]>> = {
  'build-and-smoke-test': {
    image: ['random'],
    // A line starting with # is a comment in KEY=VALUE and list inputs.
    'build-args': ['legacy ##['],
    env: ['legacy ##['],
    'env-secret-keys': ['random', 'legacy ##['],
    // docker run arguments, split as a shell would but never run by one: plain words are arguments.
    'run-args': [
      'random',
      'newline set-output',
      'CRLF add-mask',
      'newline stop-commands',
      'newline error',
      'starts with ::',
      'combining marks',
      'path traversal',
    ],
  },
  'push-ecr': {
    image: ['random'],
    repository: ['random'],
    tags: ['random', 'legacy ##['],
    registry: ['random'],
  },
  'drain-and-deploy': {
    'container-name': ['random'],
    image: ['random'],
    'environment-variables': ['legacy ##['],
    secrets: ['legacy ##['],
  },
  rollback: {
    // Free text, shown in the log (fenced when it looks like a workflow command) and the summary.
    reason: [
      'random',
      'malformed',
      'shell metacharacters',
      'combining marks',
      'path traversal',
      'starts with ::',
      'legacy ##[',
    ],
  },
  'verify-health': {
    checks: ['legacy ##['],
    // Field names of the register and login requests: a plain word is one.
    'username-field': ['random'],
    'password-field': ['random'],
    'token-field': ['random'],
  },
  // A valid capacity provider name: the step goes on and refuses, the service holding the volumes.
  'run-task': {
    'capacity-provider': ['random'],
  },
}

/** Optional inputs that still refuse an empty value here: verify-health's cluster and service go together. */
const EMPTY_REFUSED: Record<string, string[]> = { 'verify-health': ['cluster', 'service'] }

let local: EcsLocal
let stateDir = ''
const CLUSTER = 'fuzz-cluster'
const SERVICE = 'fuzz-backend'
const ABSENT_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/wwhd-dev-backend:fuzz-absent'

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'ecs-local-fuzz-'))
  local = await startEcsLocal({
    runtime: 'simulated',
    registry: false,
    stateDir,
    timings: { awsSecondsScale: 0.1 },
    simulated: { defaultBehaviour: { takesLock: true } },
  })
  // Its image is not in ECR: every deploy and rollback stops in the preflight, before any change.
  await createSampleStack(local, {
    cluster: CLUSTER,
    service: SERVICE,
    image: ABSENT_IMAGE,
    jwtSecret: 'fuzz',
  })
})
afterAll(async () => {
  await local?.stop()
  rmSync(stateDir, { recursive: true, force: true })
})

const BASELINE: Record<string, Record<string, string>> = {
  'build-and-smoke-test': { context: '/nonexistent-fuzz-context' },
  'push-ecr': { image: 'lockstep-fuzz/absent:1', repository: 'fuzz' },
  'drain-and-deploy': { cluster: CLUSTER, service: SERVICE, 'container-name': 'fastapi', timeout: '20s' },
  rollback: { cluster: CLUSTER, service: SERVICE, timeout: '20s' },
  // The service runs, so a one-off task on its EFS volumes is refused before anything starts.
  'run-task': { cluster: CLUSTER, service: SERVICE, 'task-definition': SERVICE, timeout: '20s' },
  // A service that does not exist: verify-health stops at once, whatever its timeout.
  'verify-health': {
    cluster: CLUSTER,
    service: 'fuzz-no-such-service',
    url: 'http://127.0.0.1:9',
    timeout: '2s',
    consecutive: '1',
    'stable-for': '0s',
  },
}

const MUTATING = /^(Create|Delete|Update|Register|Deregister|Put|Tag|Untag|Run|Start|Stop|Modify|Set|Submit)/
const OURS = new Set([
  'error',
  'warning',
  'notice',
  'debug',
  'group',
  'endgroup',
  'add-mask',
  'stop-commands',
])
const SECRET_INPUTS = new Set([
  'create-users',
  'env',
  'build-args',
  'environment-variables',
  'container-overrides',
])

function problemsOf(
  action: string,
  input: string,
  label: string,
  value: string,
  run: ActionRun,
  caller: string,
): string[] {
  const problems: string[] = []
  const required = readActionYaml(action).inputs?.[input]?.required === true
  const emptyValid = !required && !(EMPTY_REFUSED[action] ?? []).includes(input)
  const valid = (label === 'empty' && emptyValid) || (VALID[action]?.[input] ?? []).includes(label)
  const named = run.errors.some((e) => e.includes(`Input '${input}'`))
  // The list of valid values is exact: a value listed there must be accepted, any other refused.
  if (valid && named) problems.push(`listed as valid, but refused: ${run.errors[0]?.slice(0, 200)}`)
  if (!valid && (run.exitCode === 0 || !named)) {
    problems.push(
      `exit ${run.exitCode}, errors ${JSON.stringify(run.errors.map((e) => e.slice(0, 200)))}: expected an error naming '${input}'`,
    )
  }
  const mutations = local.calls.records.filter((r) => r.caller === caller && MUTATING.test(r.operation))
  if (mutations.length > 0)
    problems.push(`mutating AWS calls: ${mutations.map((r) => `${r.service}:${r.operation}`).join(', ')}`)
  for (const step of [run, run.post].filter((s): s is NonNullable<typeof s> => s !== undefined)) {
    for (const command of step.commands) {
      const text = `${command.name} ${command.properties}::${command.value}`
      // The injected commands carry PWNED as their whole value or in their properties; the
      // action's own error quoting the value is not one of them.
      const injected =
        command.value === 'PWNED' ||
        /pwned/i.test(command.properties) ||
        (command.name === 'stop-commands' && command.value === 'PWNEDTOKEN')
      if (!OURS.has(command.name))
        problems.push(`obeyed a workflow command the action does not give: ${text.slice(0, 120)}`)
      else if (injected) problems.push(`obeyed an injected workflow command: ${text.slice(0, 120)}`)
      if (['error', 'warning', 'notice'].includes(command.name) && command.value.length > 4096)
        problems.push(`a ${command.name} of ${command.value.length} characters`)
    }
    if (Object.keys(step.outputs).some((k) => /pwned/i.test(k))) problems.push('an injected output was set')
  }
  if (run.ms + (run.post?.ms ?? 0) > 30_000) problems.push(`took ${run.ms + (run.post?.ms ?? 0)} ms`)
  const awsSecret = local.awsEnv().AWS_SECRET_ACCESS_KEY as string
  if (
    [run, run.post].some(
      (step) => step && (step.unmasked.includes(awsSecret) || step.summary.includes(awsSecret)),
    )
  )
    problems.push('the AWS secret key reached the output')
  if (
    SECRET_INPUTS.has(input) &&
    value.length >= 6 &&
    (run.unmasked.includes(value) || run.summary.includes(value))
  )
    problems.push('the secret input reached the output')
  return problems
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await work(items[next++] as T)
    }),
  )
}

let counter = 0

describe.each(Object.keys(BASELINE))('%s under hostile input', (action) => {
  it(`every input × ${HOSTILE.length} hostile values`, async () => {
    const inputs = Object.keys(readActionYaml(action).inputs ?? {})
    const cases = inputs.flatMap((input) => HOSTILE.map(([label, value]) => ({ input, label, value })))
    const failures: string[] = []
    await pool(cases, 8, async ({ input, label, value }) => {
      const caller = `AKIAFUZZ${String(++counter).padStart(8, '0')}`
      const run = await runAction(action, {
        inputs: { ...BASELINE[action], [input]: value },
        env: {
          ...local.awsEnv(),
          AWS_ACCESS_KEY_ID: caller,
          GITHUB_SHA: 'f0e1d2c3b4a5968778695a4b3c2d1e0f12345678',
        },
        timeoutMs: 40_000,
      })
      for (const problem of problemsOf(action, input, label, value, run, caller))
        failures.push(`${input} = ${label}: ${problem}`)
    })
    expect(failures).toEqual([])
    expect(cases.length).toBe(inputs.length * HOSTILE.length)
  })
})
