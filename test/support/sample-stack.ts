import { afterAll, beforeAll } from '@jest/globals'
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr'
import { runAction, type RunOptions } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildSampleImage } from '../../examples/sample-backend/context.ts'
import { createSampleStack, type Stack, type StackOptions } from '../../examples/sample-backend/stack.ts'
import { untagRegistryImages } from './images.ts'

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

/** Builds, tags and pushes the sample image variants into ecs-local's registry. */
async function pushSampleImages(local: EcsLocal, dockerConfig: string): Promise<SampleStack['images']> {
  const config = {
    endpoint: local.endpoint,
    region: local.region,
    credentials: { accessKeyId: 'AKIAE2E', secretAccessKey: 'x' },
  }
  const ecr = new ECRClient(config)
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'wwhd-dev-backend' }))
  const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0]
  const password =
    Buffer.from(token?.authorizationToken ?? '', 'base64')
      .toString()
      .split(':')[1] ?? ''
  const env = { ...process.env, DOCKER_CONFIG: dockerConfig }
  execFileSync('docker', ['login', '--username', 'AWS', '--password-stdin', token?.proxyEndpoint ?? ''], {
    input: password,
    env,
    stdio: ['pipe', 'ignore', 'pipe'],
  })
  const images: Record<string, string> = {}
  for (const [name, variant, version] of [
    ['v1', 'good', '1.0.0'],
    ['v2', 'good', '2.0.0'],
    ['broken', 'broken', '2.0.1'],
  ] as const) {
    const local_ = `lockstep-test/sample-backend:e2e-${name}`
    await buildSampleImage(local_, { variant, version })
    const uri = `${local.registryHost}/wwhd-dev-backend:${name}`
    execFileSync('docker', ['tag', local_, uri], { env })
    execFileSync('docker', ['push', '--quiet', uri], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    images[name] = uri
  }
  return images as SampleStack['images']
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
    holder.images = await pushSampleImages(holder.local, dockerConfig)
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
    untagRegistryImages(holder.local?.registryHost)
    await holder.local?.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })
  return holder
}
