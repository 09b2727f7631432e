import { afterAll, beforeAll } from '@jest/globals'
import { runAction, type RunOptions } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeSampleContext } from '../../examples/sample-backend/context.ts'
import { pushSampleImages } from '../../examples/sample-backend/images.ts'
import { createSampleStack, type Stack, type StackOptions } from '../../examples/sample-backend/stack.ts'
import { removeRegisteredImages, untagRegistryImages } from './images.ts'

export const CLUSTER = 'wwhd-cluster'
export const JWT_SECRET = 'e2e-jwt-secret-value-not-for-production'

export interface SampleStack {
  local: EcsLocal
  stack: Stack
  /** Image URIs in the local ECR: good builds v1 and v2, and the broken build. */
  images: { v1: string; v2: string; broken: string }
  /** Runs a bundled action against this ecs-local, as the runner would. */
  run(action: string, inputs: Record<string, string>, options?: RunOptions): ReturnType<typeof runAction>
}

/** The sample image variants: good builds v1 and v2, and the broken build. */
async function pushImages(local: EcsLocal, dockerConfig: string): Promise<SampleStack['images']> {
  return (await pushSampleImages(local, dockerConfig, [
    { name: 'v1', variant: 'good', version: '1.0.0' },
    { name: 'v2', variant: 'good', version: '2.0.0' },
    { name: 'broken', variant: 'broken', version: '2.0.1' },
  ])) as SampleStack['images']
}

/**
 * One ecs-local on the real Docker engine, the sample images in its registry, and the seed-shaped
 * service running v1, for the whole test file; everything removed afterwards.
 */
export function useSampleStack(options: Partial<StackOptions> & { service: string }): SampleStack {
  const holder = {} as SampleStack
  let stateDir = ''
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'ecs-local-e2e-'))
    holder.local = await startEcsLocal({ runtime: 'docker', stateDir: join(stateDir, 'ecs-local') })
    const dockerConfig = join(stateDir, 'docker-config')
    holder.images = await pushImages(holder.local, dockerConfig)
    holder.stack = await createSampleStack(holder.local, {
      cluster: CLUSTER,
      image: holder.images.v1,
      jwtSecret: JWT_SECRET,
      ...options,
    })
    holder.run = (action, inputs, runOptions = {}) =>
      runAction(action, {
        inputs,
        timeoutMs: 5 * 60_000,
        ...runOptions,
        env: { ...holder.local.awsEnv(), DOCKER_CONFIG: dockerConfig, GITHUB_SHA: 'e2e', ...runOptions.env },
      })
  }, 180_000)
  afterAll(async () => {
    const host = holder.local?.registryHost
    await holder.local?.stop()
    untagRegistryImages(host)
    removeRegisteredImages()
    rmSync(stateDir, { recursive: true, force: true })
    removeSampleContext()
  })
  return holder
}
