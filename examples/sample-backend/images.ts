// Puts sample backend images into an ecs-local's registry, as a pipeline's push would: used by the
// end-to-end tests and the fault campaign's Docker variant.
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr'
import type { EcsLocal } from '@ecs-lockstep/ecs-local'
import { execFileSync } from 'node:child_process'
import { buildSampleImage, type SampleVariant } from './context.ts'

export interface SampleImage {
  name: string
  variant: SampleVariant
  version: string
}

/** Builds each image, pushes it to `<registry>/<repository>:<name>`, returns the URIs by name. */
export async function pushSampleImages(
  local: EcsLocal,
  dockerConfig: string,
  images: SampleImage[],
  repository = 'wwhd-dev-backend',
): Promise<Record<string, string>> {
  const ecr = new ECRClient({
    endpoint: local.endpoint,
    region: local.region,
    credentials: { accessKeyId: 'AKIASAMPLE', secretAccessKey: 'x' },
  })
  await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }))
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
  const uris: Record<string, string> = {}
  for (const { name, variant, version } of images) {
    // A build tag of this process only, dropped once pushed: the registry URI is the one that stays
    // (untagged when the stack goes), so nothing is left in the engine.
    const tag = `lockstep-test/sample-backend:e2e-${name}-${process.pid}`
    await buildSampleImage(tag, { variant, version })
    const uri = `${local.registryHost}/${repository}:${name}`
    execFileSync('docker', ['tag', tag, uri], { env })
    execFileSync('docker', ['rmi', tag], { env, stdio: 'ignore' })
    execFileSync('docker', ['push', '--quiet', uri], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    uris[name] = uri
  }
  return uris
}
