import { AwsError, invalidParameter } from '../errors.ts'
import type { LocalRegistry } from '../registry.ts'
import type { CallContext, ServiceDefinition } from '../service.ts'
import type { Store } from '../state.ts'

export interface RepositoryRecord {
  name: string
  region: string
  createdAt: number
  imageTagMutability: 'MUTABLE' | 'IMMUTABLE'
}

export interface EcrState {
  repositories: Record<string, RepositoryRecord>
  /** When each digest was first seen in the registry: the registry itself keeps no push time. */
  firstSeen: Record<string, number>
}

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/
const TOKEN_LIFETIME_MS = 12 * 3600 * 1000

export function initialEcrState(): EcrState {
  return { repositories: {}, firstSeen: {} }
}

interface ImageId {
  imageTag?: string
  imageDigest?: string
}

/**
 * ECR's control plane over the local registry: repositories are records here, images are whatever
 * the registry holds under the repository's name.
 */
export function ecrService(
  store: Store<{ ecr: EcrState }>,
  registry: () => LocalRegistry | undefined,
): ServiceDefinition {
  const state = () => store.data.ecr
  const key = (ctx: CallContext, name: string) => `${ctx.region}/${name}`

  function requireRegistry(): LocalRegistry {
    const r = registry()
    if (!r)
      throw new AwsError(
        'ServerException',
        'ecs-local runs without a registry (docker-registry is not installed)',
        500,
      )
    return r
  }

  function describe(record: RepositoryRecord, ctx: CallContext) {
    return {
      repositoryArn: `arn:aws:ecr:${record.region}:${ctx.accountId}:repository/${record.name}`,
      registryId: ctx.accountId,
      repositoryName: record.name,
      repositoryUri: `${registry()?.host ?? 'registry-unavailable'}/${record.name}`,
      createdAt: new Date(record.createdAt),
      imageTagMutability: record.imageTagMutability,
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'AES256' },
    }
  }

  function findRepository(ctx: CallContext, name: unknown): RepositoryRecord {
    const record = typeof name === 'string' ? state().repositories[key(ctx, name)] : undefined
    if (!record) {
      throw new AwsError(
        'RepositoryNotFoundException',
        `The repository with name '${String(name)}' does not exist in the registry with id '${ctx.accountId}'`,
      )
    }
    return record
  }

  async function imageDetail(
    record: RepositoryRecord,
    ctx: CallContext,
    reference: string,
    knownTags?: string[],
  ) {
    const r = requireRegistry()
    const manifest = await r.manifest(record.name, reference)
    if (!manifest) return undefined
    const allTags = knownTags ?? (await r.tags(record.name))
    const tags: string[] = []
    for (const tag of allTags) {
      if (tag === reference || (await r.manifest(record.name, tag))?.digest === manifest.digest)
        tags.push(tag)
    }
    state().firstSeen[manifest.digest] ??= Date.now()
    store.changed()
    return {
      registryId: ctx.accountId,
      repositoryName: record.name,
      imageDigest: manifest.digest,
      imageTags: tags,
      imageSizeInBytes: manifest.size,
      imagePushedAt: new Date(state().firstSeen[manifest.digest] as number),
      imageManifestMediaType: manifest.mediaType,
    }
  }

  return {
    name: 'ecr',
    protocol: 'json',
    jsonTarget: 'AmazonEC2ContainerRegistry_V20150921',
    operations: {
      GetAuthorizationToken: () => {
        const r = requireRegistry()
        return {
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${r.password}`).toString('base64'),
              expiresAt: new Date(Date.now() + TOKEN_LIFETIME_MS),
              proxyEndpoint: `http://${r.host}`,
            },
          ],
        }
      },

      CreateRepository: (input: { repositoryName?: string; imageTagMutability?: string }, ctx) => {
        const name = input.repositoryName ?? ''
        if (name.length < 2 || name.length > 256 || !REPOSITORY_NAME.test(name)) {
          throw invalidParameter(
            `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${REPOSITORY_NAME.source}''`,
          )
        }
        if (state().repositories[key(ctx, name)]) {
          throw new AwsError(
            'RepositoryAlreadyExistsException',
            `The repository with name '${name}' already exists in the registry with id '${ctx.accountId}'`,
          )
        }
        const record: RepositoryRecord = {
          name,
          region: ctx.region,
          createdAt: Date.now(),
          imageTagMutability: input.imageTagMutability === 'IMMUTABLE' ? 'IMMUTABLE' : 'MUTABLE',
        }
        state().repositories[key(ctx, name)] = record
        store.changed()
        return { repository: describe(record, ctx) }
      },

      DescribeRepositories: (input: { repositoryNames?: string[] }, ctx) => {
        const records = input.repositoryNames
          ? input.repositoryNames.map((name) => findRepository(ctx, name))
          : Object.values(state().repositories).filter((r) => r.region === ctx.region)
        return { repositories: records.map((r) => describe(r, ctx)) }
      },

      DeleteRepository: (input: { repositoryName?: string }, ctx) => {
        const record = findRepository(ctx, input.repositoryName)
        Reflect.deleteProperty(state().repositories, key(ctx, record.name))
        store.changed()
        return { repository: describe(record, ctx) }
      },

      DescribeImages: async (input: { repositoryName?: string; imageIds?: ImageId[] }, ctx) => {
        const record = findRepository(ctx, input.repositoryName)
        const tags = await requireRegistry().tags(record.name)
        if (!input.imageIds) {
          const details = new Map<string, NonNullable<Awaited<ReturnType<typeof imageDetail>>>>()
          for (const tag of tags) {
            const detail = await imageDetail(record, ctx, tag, tags)
            if (detail) details.set(detail.imageDigest, detail)
          }
          return { imageDetails: [...details.values()] }
        }
        const imageDetails = []
        for (const id of input.imageIds) {
          const detail = await imageDetail(record, ctx, id.imageDigest ?? id.imageTag ?? '', tags)
          if (!detail) {
            throw new AwsError(
              'ImageNotFoundException',
              `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${record.name}' in the registry with id '${ctx.accountId}'`,
            )
          }
          imageDetails.push(detail)
        }
        return { imageDetails }
      },
    },
  }
}
