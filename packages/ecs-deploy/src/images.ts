import { DescribeImagesCommand, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr'
import * as log from '@ecs-lockstep/core/log'
import { ActionError, errorMessage } from '@ecs-lockstep/core/errors'
import { awsErrorName } from '@ecs-lockstep/core/aws/errors'
import { maskSecret } from '@ecs-lockstep/core/secrets'
import type { AwsClients } from './clients.ts'

const ECR_HOST = /^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/

interface ImageReference {
  host: string
  repository: string
  imageTag?: string
  imageDigest?: string
}

export function parseImage(image: string): ImageReference | undefined {
  const match = /^([^/]+)\/([^@:]+(?:\/[^@:]+)*)(?::([\w][\w.-]*))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(image)
  if (!match) return undefined
  const [, host, repository, tag, digest] = match as unknown as [string, string, string, string?, string?]
  if (!host.includes('.') && !host.includes(':') && host !== 'localhost') return undefined
  return { host, repository, ...(digest ? { imageDigest: digest } : { imageTag: tag ?? 'latest' }) }
}

/** The host of the caller's own ECR registry, as ECR names it (works against any endpoint). */
async function ownRegistryHost(clients: AwsClients): Promise<string | undefined> {
  const reply = await clients.ecr.send(new GetAuthorizationTokenCommand({}))
  const data = reply.authorizationData?.[0]
  maskSecret(data?.authorizationToken)
  return data?.proxyEndpoint ? new URL(data.proxyEndpoint).host : undefined
}

/**
 * Checks, before anything changes, that every ECR image the task definition names exists. Images
 * outside ECR (Docker Hub sidecars...) are not checked. Missing permission to check is a warning.
 */
export async function assertImagesExist(clients: AwsClients, images: string[]): Promise<void> {
  const refs = images.map((image) => ({ image, ref: parseImage(image) })).filter((i) => i.ref)
  if (refs.length === 0) return
  // Images under an amazonaws.com ECR host are checked whatever happens; the registry's own host is
  // only needed for other endpoints (a local ECR), and asking for it may fail.
  let ownHost: string | undefined
  if (refs.some((r) => r.ref && !ECR_HOST.test(r.ref.host))) {
    try {
      ownHost = await ownRegistryHost(clients)
    } catch (error) {
      log.warning(
        `Could not ask ECR for its registry (${errorMessage(error)}); not checking the images outside amazonaws.com.`,
      )
    }
  }
  for (const { image, ref } of refs) {
    if (!ref) continue
    const account = ECR_HOST.exec(ref.host)?.[1]
    if (!account && ref.host !== ownHost) continue
    try {
      const { imageTag, imageDigest } = ref
      await clients.ecr.send(
        new DescribeImagesCommand({
          repositoryName: ref.repository,
          imageIds: [imageDigest ? { imageDigest } : { imageTag }],
          ...(account ? { registryId: account } : {}),
        }),
      )
      log.info(`Image ${image} exists in ECR.`)
    } catch (error) {
      const name = awsErrorName(error)
      if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException') {
        throw new ActionError(`Image ${image} does not exist in ECR (${name}). Nothing was changed.`, {
          hint: 'Push it first (push-ecr) and pass its image-uri output here, or check the tag.',
        })
      }
      log.warning(`Could not check image ${image} (${name}: ${errorMessage(error)}); going on.`)
    }
  }
}
