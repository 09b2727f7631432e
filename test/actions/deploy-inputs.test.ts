import { describe, expect, it } from '@jest/globals'
import { runAction } from '@ecs-lockstep/action-runner'

// An endpoint where nothing listens: an input error must stop the step before any AWS call.
const NO_AWS = {
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'example',
}
const BASE = { cluster: 'wwhd-cluster', service: 'wwhd-backend' }

async function expectInputError(action: string, inputs: Record<string, string>, message: string, env = {}) {
  const run = await runAction(action, { inputs, env: { ...NO_AWS, ...env }, timeoutMs: 20_000 })
  expect(run.exitCode).toBe(1)
  expect(run.errors[0]).toContain(message)
  expect(run.errors[0]).toContain('Nothing was changed')
  expect(run.log).not.toMatch(/AWS account|Could not reach AWS/)
  expect(run.post?.exitCode).toBe(0)
  // A secret pasted where an ARN belongs is neither shown nor left unmasked.
  expect(run.unmasked).not.toContain('sk-live-do-not-paste-keys-here')
}

describe('drain-and-deploy input errors (bundled; before any AWS call)', () => {
  it.each([
    [{ service: 'x' }, "Input 'cluster' is required."],
    [{ cluster: 'x' }, "Input 'service' is required."],
    [{ ...BASE, strategy: 'blue-green' }, `Input 'strategy' "blue-green": expected one of: drain, rolling`],
    [{ ...BASE, 'single-writer': 'yes' }, `Input 'single-writer' "yes": expected one of: auto, true, false`],
    [{ ...BASE, 'wait-for': 'stable' }, `Input 'wait-for' "stable": expected one of: healthy, running, none`],
    [
      { ...BASE, timeout: '15' },
      `Input 'timeout' "15": expected a duration with a unit, such as 500ms, 90s, 5m or 1h30m`,
    ],
    [{ ...BASE, timeout: '2s' }, `Input 'timeout' "2s": expected a duration from 10.0s to 6h 00m`],
    [
      { ...BASE, 'desired-count': '-1' },
      `Input 'desired-count' "-1": expected a whole number from 0 to 1000`,
    ],
    [
      { ...BASE, 'if-deployment-in-progress': 'cancel' },
      `Input 'if-deployment-in-progress' "cancel": expected one of: wait, fail`,
    ],
    [{ ...BASE, image: 'repo/app: tag' }, `Input 'image' "repo/app: tag": expected an image reference`],
    [
      { ...BASE, 'environment-variables': 'JWT_SECRET hunter2' },
      `Input 'environment-variables': line 1 has no "=" (the line is not shown, it may hold a secret): expected KEY=VALUE`,
    ],
    [
      { ...BASE, 'environment-variables': 'APP_ENV=production\nCORS_ORIGINS=' },
      `Input 'environment-variables': line 2: CORS_ORIGINS is empty (an unset variable?): expected a value, or CORS_ORIGINS="" to set it empty on purpose`,
    ],
    [
      { ...BASE, secrets: 'OPENAI_API_KEY=sk-live-do-not-paste-keys-here' },
      `Input 'secrets': line 1: OPENAI_API_KEY (the value is not shown, it may be a secret): expected the ARN of a Secrets Manager secret`,
    ],
    [
      { ...BASE, 'aws-region': 'Europe' },
      `Input 'aws-region' "Europe": expected a region such as us-east-1 or eu-west-2`,
    ],
  ])('%j → %s', async (inputs, message) => {
    await expectInputError('drain-and-deploy', inputs, message)
  })

  it('asks for a region when none is given or set', async () => {
    await expectInputError('drain-and-deploy', BASE, "Input 'aws-region'", { AWS_REGION: '' })
  })

  it('reports several bad inputs at once', async () => {
    const run = await runAction('drain-and-deploy', { inputs: { strategy: 'x', timeout: 'y' }, env: NO_AWS })
    expect(run.errors[0]).toMatch(
      /^4 inputs are invalid:\n- Input 'cluster' is required\.\n- Input 'service' is required\./,
    )
  })
})

describe('rollback input errors (bundled; before any AWS call)', () => {
  it.each([
    [{ service: 'x' }, "Input 'cluster' is required."],
    [{ ...BASE, to: 'latest' }, `Input 'to' "latest": expected family:revision or a task definition ARN`],
    [
      { ...BASE, 'desired-count': 'one' },
      `Input 'desired-count' "one": expected a whole number from 0 to 1000`,
    ],
    [{ ...BASE, strategy: 'fast' }, `Input 'strategy' "fast": expected one of: drain, rolling`],
    [{ ...BASE, timeout: '0' }, `Input 'timeout' "0": expected a duration from 10.0s to 6h 00m`],
  ])('%j → %s', async (inputs, message) => {
    await expectInputError('rollback', inputs, message)
  })
})
