import { describe, expect, it } from '@jest/globals'
import { runAction } from '@ecs-lockstep/action-runner'
import { buildContext, containersLabelled, removeAfterAll } from '../support/images.ts'

const ACTION = 'build-and-smoke-test'

/** Runs the bundled action with a unique run id, and returns it with the containers it left behind. */
async function smokeTest(
  fixture: string,
  inputs: Record<string, string> = {},
  env: Record<string, string> = {},
) {
  const runId = `jest-${process.pid}-${Date.now()}`
  removeAfterAll(`lockstep-test/${fixture}:jest`, ...(inputs.image ? [inputs.image] : []))
  const run = await runAction(ACTION, {
    inputs: { context: buildContext(fixture), image: `lockstep-test/${fixture}:jest`, ...inputs },
    env: { GITHUB_RUN_ID: runId, ...env },
    timeoutMs: 90_000,
  })
  return { run, leftBehind: containersLabelled(`ecs-lockstep.smoke-test=${runId}`) }
}

describe('build-and-smoke-test (bundled, on the real Docker engine)', () => {
  it('passes a healthy image and reports image, id and time to healthy', async () => {
    const { run, leftBehind } = await smokeTest('healthy', { 'stable-for': '2s', env: 'APP_ENV=smoke' })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.outputs.image).toBe('lockstep-test/healthy:jest')
    expect(run.outputs['image-id']).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(Number(run.outputs['seconds-to-healthy'])).toBeLessThan(30)
    expect(run.summary).toContain(
      'build-and-smoke-test: lockstep-test/healthy:jest built, answered 200 and stayed up',
    )
    expect(leftBehind).toEqual([])
  })

  it('fails when the health endpoint never answers, within health-timeout', async () => {
    const { run, leftBehind } = await smokeTest('never-answers', { 'health-timeout': '3s' })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toMatch(
      /never answered healthy\. Timed out after [23]\.\ds waiting for GET \/health to answer 200/,
    )
    expect(run.errors[0]).toMatch(/Last seen: (connection reset|connection refused)/)
    // What to do follows from what was seen: nothing answered at all.
    expect(run.errors[0]).toContain(
      'Nothing answered on port 8000: check that the app listens on 0.0.0.0:8000',
    )
    expect(run.log).toContain('Container diagnostics')
    expect(run.ms).toBeLessThan(30_000)
    expect(leftBehind).toEqual([])
  })

  it('fails when the health endpoint answers 500, and shows the status it got', async () => {
    const { run, leftBehind } = await smokeTest('answers-500', {
      'health-path': '/cgi-bin/health',
      'health-timeout': '3s',
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toContain('Last seen: answered 500')
    // What to do follows from what was seen: the app listens, its health endpoint says no.
    expect(run.errors[0]).toContain(
      'The app is listening and answered 500, not 200: see why /cgi-bin/health says so in its logs',
    )
    expect(run.errors[0]).not.toContain('0.0.0.0')
    expect(leftBehind).toEqual([])
  })

  it('fails when the container crashes 3 s after becoming healthy, with its exit code and logs', async () => {
    const { run, leftBehind } = await smokeTest('crashes-after-start', { 'stable-for': '10s' })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toMatch(/crashed [2-4]\.\ds after it first answered healthy: exit code 3\b/)
    expect(run.log).toContain('fatal: lost the lock on /data')
    expect(run.summary).toContain('Container logs (last 200 lines)')
    expect(run.summary).toContain('fatal: lost the lock on /data')
    expect(run.summary).toContain('oomKilled=false')
    expect(leftBehind).toEqual([])
  })

  it('says when the kernel killed the container for running out of memory (OOMKilled)', async () => {
    const { run, leftBehind } = await smokeTest('runs-out-of-memory', {
      'stable-for': '10s',
      'run-args': '--memory 32m --memory-swap 32m',
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toMatch(
      /crashed [0-9.]+s after it first answered healthy: exit code 137, killed for running out of memory \(OOMKilled\)/,
    )
    expect(run.log).toContain('loading the whole index into memory')
    expect(run.summary).toContain('oomKilled=true')
    expect(leftBehind).toEqual([])
  })

  it('fails with the exit code and logs when the container exits at once, and removes it', async () => {
    const { run, leftBehind } = await smokeTest('exits-at-once', { 'health-timeout': '5s' })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toMatch(
      /^The container (stopped right after it started|stopped before answering healthy): exit code 0/,
    )
    expect(run.summary).toContain('nothing to serve, exiting')
    expect(leftBehind).toEqual([])
  })

  it('fails with the build output when the Dockerfile does not build, and starts nothing', async () => {
    const { run, leftBehind } = await smokeTest('does-not-build')
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toContain('The image did not build')
    expect(run.errors[0]).toMatch(/app\.bin/)
    expect(run.outputs['image-id']).toBeUndefined()
    expect(leftBehind).toEqual([])
  })

  it('keeps secret env values out of the command line, the log and the summary', async () => {
    const secret = 'jwt-5ecr3t-value-that-must-not-leak'
    const apiKey = 'sk-test-0123456789abcdef'
    const { run } = await smokeTest('healthy', {
      'stable-for': '0',
      env: `APP_ENV=smoke\nJWT_SECRET=${secret}\nLLM_KEY=${apiKey}`,
      'env-secret-keys': 'LLM_KEY',
    })
    expect(run.exitCode).toBe(0)
    for (const value of [secret, apiKey]) {
      expect(run.unmasked).not.toContain(value)
      expect(run.summary).not.toContain(value)
    }
    expect(run.raw).toContain(`::add-mask::${secret}`)
    expect(run.raw).toContain(`::add-mask::${apiKey}`)
  })

  it('removes the container when the workflow is cancelled while waiting', async () => {
    const runId = `jest-cancel-${Date.now()}`
    const run = await runAction(ACTION, {
      inputs: {
        context: buildContext('never-answers'),
        image: 'lockstep-test/never-answers:jest',
        'health-timeout': '60s',
      },
      env: { GITHUB_RUN_ID: runId },
      cancelWhen: /Probing http/,
      timeoutMs: 60_000,
    })
    expect(run.exitCode).toBe(1)
    expect(run.ms).toBeLessThan(15_000)
    expect(run.warnings.join('\n')).toContain('the workflow was cancelled')
    expect(containersLabelled(`ecs-lockstep.smoke-test=${runId}`)).toEqual([])
  })
})

it('its post step removes the container when the main step was killed before it could', async () => {
  const runId = `jest-kill-${Date.now()}`
  const run = await runAction(ACTION, {
    inputs: {
      context: buildContext('never-answers'),
      image: 'lockstep-test/never-answers:jest',
      'health-timeout': '60s',
    },
    env: { GITHUB_RUN_ID: runId },
    killWhen: /Probing http/,
    timeoutMs: 60_000,
  })
  expect(run.signal).toBe('SIGKILL')
  expect(run.state['container-id']).toMatch(/^[0-9a-f]{64}$/)
  expect(run.post?.exitCode).toBe(0)
  expect(run.post?.log).toContain(
    `Removed test container ${run.state['container-id']?.slice(0, 12)} left by the main step.`,
  )
  expect(containersLabelled(`ecs-lockstep.smoke-test=${runId}`)).toEqual([])
})

describe('build-and-smoke-test input errors (bundled; before anything is built)', () => {
  it.each([
    [{ port: '0' }, `Input 'port' "0": expected a TCP port from 1 to 65535`],
    [{ port: '80/tcp' }, `Input 'port' "80/tcp": expected a TCP port from 1 to 65535`],
    [
      { 'health-path': 'health' },
      `Input 'health-path' "health": expected a path starting with /, such as /health`,
    ],
    [{ 'expect-status': '20' }, `Input 'expect-status' "20": expected an HTTP status from 100 to 599`],
    [
      { 'health-timeout': '60' },
      `Input 'health-timeout' "60": expected a duration with a unit, such as 500ms, 90s, 5m or 1h30m`,
    ],
    [{ 'health-timeout': '500ms' }, `Input 'health-timeout' "500ms": expected a duration of 1.0s or more`],
    [{ 'stable-for': 'ten seconds' }, `Input 'stable-for' "ten seconds": expected a duration with a unit`],
    [{ platform: 'amd64' }, `Input 'platform' "amd64": expected os/arch such as linux/amd64 or linux/arm64`],
    [
      { image: 'My_App:latest' },
      `Input 'image' "My_App:latest": expected an image reference [registry/]repository[:tag][@sha256:digest] with a lowercase repository`,
    ],
    [
      { env: 'APP_ENV=test\nJWT_SECRET hunter2' },
      `Input 'env': line 2 has no "=" (the line is not shown, it may hold a secret): expected KEY=VALUE`,
    ],
    [{ 'build-args': '1VERSION=2' }, `Input 'build-args': line 1: "1VERSION" is not a valid name`],
    [
      { 'env-secret-keys': 'API KEY' },
      `Input 'env-secret-keys' "API KEY": "API KEY" is not valid: expected variable names`,
    ],
    [
      { 'run-args': '--memory 2g && rm -rf /' },
      `Input 'run-args' "--memory 2g && rm -rf /": expected docker run arguments only (no shell operators such as |, && or ;)`,
    ],
  ])('%j → %s', async (inputs, message) => {
    const run = await runAction(ACTION, { inputs: { context: '/nonexistent', ...inputs }, timeoutMs: 20_000 })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toContain(message)
    expect(run.errors[0]).toContain('Nothing was changed')
    expect(run.log).not.toContain('[command]')
    expect(run.raw).not.toContain('hunter2')
  })
})
