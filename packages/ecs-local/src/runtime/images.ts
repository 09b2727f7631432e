import { LaunchError } from './types.ts'

/** `123456789012.dkr.ecr.us-east-1.amazonaws.com/`: ECR's own host names, served by the local registry. */
const ECR_HOST = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\//

/** The image as the local registry names it: ECR host names become the registry's host. */
export function localReference(image: string, registryHost: string | undefined): string {
  return registryHost && ECR_HOST.test(image) ? image.replace(ECR_HOST, `${registryHost}/`) : image
}

/** Repository and tag (or digest) of an image under the registry's host, else undefined. */
export function inRegistry(
  image: string,
  registryHost: string,
): { repository: string; reference: string } | undefined {
  if (!image.startsWith(`${registryHost}/`)) return undefined
  const path = image.slice(registryHost.length + 1)
  const at = path.indexOf('@')
  if (at >= 0) return { repository: path.slice(0, at), reference: path.slice(at + 1) }
  const colon = path.lastIndexOf(':')
  return colon > path.lastIndexOf('/')
    ? { repository: path.slice(0, colon), reference: path.slice(colon + 1) }
    : { repository: path, reference: 'latest' }
}

/** ECS's words for an image that is not there. */
export function imageNotFound(image: string): LaunchError {
  return new LaunchError(
    `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${image}: ${image}: not found`,
  )
}
