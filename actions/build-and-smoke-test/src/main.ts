import * as log from '@ecs-lockstep/core/log'
import { maskSecretValues, readInputs, runAction } from '@ecs-lockstep/core'
import { join } from 'node:path'
import { inputs, type Output } from './inputs.ts'
import type { SmokeTestPlan } from './smoke-test.ts'

async function defaultImage(): Promise<string> {
  const { commitSha, repositoryName } = await import('@ecs-lockstep/core/github-context')
  const name =
    repositoryName()
      .replace(/[^a-z0-9._-]/g, '-')
      .replace(/^[^a-z0-9]+/, '') || 'app'
  return `${name}:${commitSha()?.slice(0, 12) ?? 'local'}`
}

/** Build the image, run it, wait until it answers healthy and stays up. The step's entry point (index.ts), and callable in-process (tests, @github/local-action). */
export async function run(): Promise<void> {
  await runAction<Output>(
    'build-and-smoke-test',
    async (ctx) => {
      const given = readInputs(inputs)
      maskSecretValues(given.env, given.envSecretKeys)
      maskSecretValues(given.buildArgs)
      // Docker and HTTP code load only once the inputs are known to be good: a typo fails in milliseconds.
      const smoke = await import('./smoke-test.ts')
      for (const key of given.envSecretKeys.filter((k) => !(k in given.env))) {
        log.warning(`env-secret-keys names ${key}, which is not set in env.`)
      }
      const plan: SmokeTestPlan = {
        context: given.context,
        dockerfile: given.dockerfile ?? join(given.context, 'Dockerfile'),
        image: given.image ?? (await defaultImage()),
        platform: given.platform,
        buildArgs: given.buildArgs,
        env: given.env,
        port: given.port,
        healthPath: given.healthPath,
        expectStatus: given.expectStatus,
        healthTimeoutMs: given.healthTimeout,
        stableForMs: given.stableFor,
        runArgs: given.runArgs,
      }
      await smoke.smokeTest(ctx, plan)
    },
    { inputs },
  )
}
