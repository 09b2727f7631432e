import * as core from '@actions/core'
import * as log from '@ecs-lockstep/core/log'
import type { Output } from './inputs.ts'
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  type Repository,
} from '@aws-sdk/client-ecr'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { ActionError, type ActionContext, maskSecret, toSeconds } from '@ecs-lockstep/core'
import { clientConfig } from '@ecs-lockstep/core/aws/clients'
import { aws, awsErrorName, explainAwsError } from '@ecs-lockstep/core/aws/errors'
import { assertDockerEngine, docker, lastLines } from '@ecs-lockstep/core/docker'
import { LOGGED_IN_REGISTRY } from './state.ts'

export interface PushPlan {
  image: string
  repository: string
  tags: string[]
  registry: string | undefined
  createRepository: boolean
  region: string
}

interface Login {
  registry: string
  proxyEndpoint: string
  username: string
  password: string
  expiresAt: Date | undefined
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/

/** Which registry to ask a token for: the caller's own (via STS), the one a host names, or the default. */
async function registryIdFor(plan: PushPlan, sts: STSClient): Promise<string | undefined> {
  if (plan.registry) return ECR_HOST.exec(plan.registry)?.[1]
  const identity = await aws('asking STS who the caller is', () => sts.send(new GetCallerIdentityCommand({})))
  log.info(`AWS account ${identity.Account}, caller ${identity.Arn}`)
  return identity.Account
}

async function fetchLogin(plan: PushPlan, ecr: ECRClient, sts: STSClient): Promise<Login> {
  const registryId = await registryIdFor(plan, sts)
  const reply = await aws('getting an ECR authorization token', () =>
    ecr.send(new GetAuthorizationTokenCommand(registryId ? { registryIds: [registryId] } : {})),
  )
  const data = reply.authorizationData?.[0]
  if (!data?.authorizationToken || !data.proxyEndpoint) {
    throw new ActionError('ECR returned no authorization token.', {
      hint: 'Re-run the job; if it persists, check the ECR service health.',
    })
  }
  maskSecret(data.authorizationToken)
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8')
  const separator = decoded.indexOf(':')
  const password = decoded.slice(separator + 1)
  maskSecret(password)
  return {
    registry: plan.registry ?? new URL(data.proxyEndpoint).host,
    proxyEndpoint: data.proxyEndpoint,
    username: decoded.slice(0, separator),
    password,
    expiresAt: data.expiresAt,
  }
}

async function ensureRepository(
  plan: PushPlan,
  ecr: ECRClient,
  registryId: string | undefined,
): Promise<Repository> {
  try {
    const reply = await ecr.send(
      new DescribeRepositoriesCommand({
        repositoryNames: [plan.repository],
        ...(registryId ? { registryId } : {}),
      }),
    )
    return reply.repositories?.[0] as Repository
  } catch (error) {
    if (awsErrorName(error) !== 'RepositoryNotFoundException') {
      throw explainAwsError(error, `looking up ECR repository ${plan.repository}`)
    }
    if (!plan.createRepository) {
      throw new ActionError(
        `ECR repository '${plan.repository}' does not exist in region ${plan.region}. Nothing was pushed.`,
        {
          hint: `Create it (aws ecr create-repository --repository-name ${plan.repository} --region ${plan.region}) or set create-repository: true on this step.`,
        },
      )
    }
    const created = await aws(`creating ECR repository ${plan.repository}`, () =>
      ecr.send(
        new CreateRepositoryCommand({ repositoryName: plan.repository, imageTagMutability: 'MUTABLE' }),
      ),
    )
    log.info(`Created ECR repository ${plan.repository}.`)
    return created.repository as Repository
  }
}

/** With tag immutability, pushing an existing tag fails half-way; say so before pushing anything. */
async function assertTagsFree(plan: PushPlan, ecr: ECRClient, repository: Repository): Promise<void> {
  if (repository.imageTagMutability !== 'IMMUTABLE') return
  for (const tag of plan.tags) {
    const existing = await ecr
      .send(new DescribeImagesCommand({ repositoryName: plan.repository, imageIds: [{ imageTag: tag }] }))
      .catch((error: unknown) => {
        if (awsErrorName(error) === 'ImageNotFoundException') return undefined
        throw explainAwsError(error, `checking whether tag ${tag} exists`)
      })
    if (existing?.imageDetails?.length) {
      throw new ActionError(
        `Tag '${tag}' already exists in '${plan.repository}', whose tags are IMMUTABLE. Nothing was pushed.`,
        { hint: `Push only unique tags (drop '${tag}' from tags), or make the repository's tags MUTABLE.` },
      )
    }
  }
}

function explainPushFailure(stderr: string, plan: PushPlan, login: Login): ActionError {
  const said = lastLines(stderr, 5)
  if (/authorization token has expired|no basic auth credentials|unauthorized/i.test(stderr)) {
    return new ActionError(`ECR refused the push to ${login.registry}: ${said}`, {
      hint: 'The ECR login expired or was not accepted: re-run the job, and check that the role may call ecr:GetAuthorizationToken and ecr:*Upload*/PutImage on this repository.',
    })
  }
  if (/name unknown|does not exist/i.test(stderr)) {
    return new ActionError(`ECR says repository '${plan.repository}' does not exist: ${said}`, {
      hint: 'Check the repository name and region, or set create-repository: true.',
    })
  }
  if (/tag invalid|cannot be overwritten|immutable/i.test(stderr)) {
    return new ActionError(`ECR refused to overwrite a tag: ${said}`, {
      hint: 'The repository has immutable tags; push only tags that do not exist yet.',
    })
  }
  return new ActionError(`docker push failed: ${said}`)
}

export async function pushToEcr(ctx: ActionContext<Output>, plan: PushPlan): Promise<void> {
  await assertDockerEngine()
  const local = await docker(['image', 'inspect', '--format', '{{.Id}}', plan.image], {
    silent: true,
    allowFailure: true,
  })
  if (local.exitCode !== 0) {
    throw new ActionError(`Image '${plan.image}' is not in the local Docker engine. Nothing was pushed.`, {
      hint: 'Build it in an earlier step of the same job (e.g. build-and-smoke-test) and pass its `image` output here.',
    })
  }
  const sts = new STSClient(clientConfig(plan.region))
  const ecr = new ECRClient(clientConfig(plan.region))

  const { login, repository } = await ctx.phase('Preflight', async () => {
    const login = await fetchLogin(plan, ecr, sts)
    const registryId = ECR_HOST.exec(login.registry)?.[1]
    const repository = await ensureRepository(plan, ecr, registryId)
    await assertTagsFree(plan, ecr, repository)
    log.info(`Pushing ${plan.image} to ${login.registry}/${plan.repository} as ${plan.tags.join(', ')}`)
    return { login, repository }
  })
  ctx.output('registry', login.registry)
  ctx.report.fact('Registry', login.registry)
  ctx.report.fact('Repository', repository.repositoryName)

  await ctx.phase('Log in', async () => {
    await docker(['login', '--username', login.username, '--password-stdin', login.proxyEndpoint], {
      input: login.password,
      silent: true,
    }).catch((error: unknown) => {
      throw new ActionError(`docker login to ${login.proxyEndpoint} failed: ${(error as Error).message}`, {
        hint: 'Check the runner can reach the registry, and that the role may call ecr:GetAuthorizationToken.',
      })
    })
    core.saveState(LOGGED_IN_REGISTRY, login.proxyEndpoint)
    log.info(
      `Logged in to ${login.proxyEndpoint} (token valid until ${login.expiresAt?.toISOString() ?? 'unknown'}).`,
    )
  })

  const uris = plan.tags.map((tag) => `${login.registry}/${plan.repository}:${tag}`)
  const pushedDigests = await ctx.phase('Push', async () => {
    const digests: string[] = []
    for (const uri of uris) {
      await docker(['tag', plan.image, uri], { silent: true })
      const started = Date.now()
      const result = await docker(['push', uri], { allowFailure: true })
      if (result.exitCode !== 0) throw explainPushFailure(`${result.stderr}\n${result.stdout}`, plan, login)
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(result.stdout)?.[1]
      if (digest) digests.push(digest)
      log.info(`Pushed ${uri} in ${toSeconds(Date.now() - started)}s`)
    }
    return digests
  })

  const digest = await ctx.phase('Verify', async () => {
    const reply = await aws(`reading back the pushed tags of ${plan.repository}`, () =>
      ecr.send(
        new DescribeImagesCommand({
          repositoryName: plan.repository,
          imageIds: plan.tags.map((imageTag) => ({ imageTag })),
        }),
      ),
    )
    const found = new Set((reply.imageDetails ?? []).map((detail) => detail.imageDigest))
    const [digest] = [...found]
    if (found.size !== 1 || !digest || pushedDigests.some((d) => d !== digest)) {
      throw new ActionError(
        `ECR does not show one digest for all pushed tags (ECR: ${[...found].join(', ') || 'none'}; docker push: ${pushedDigests.join(', ')}).`,
        {
          hint: 'Another job may have pushed the same tags at the same time. Re-run, and avoid pushing mutable tags from parallel jobs.',
        },
      )
    }
    log.info(`ECR has ${plan.tags.join(', ')} → ${digest}`)
    return digest
  })

  ctx.output('image-uri', uris[0] as string)
  ctx.output('image-uris', uris)
  ctx.output('digest', digest)
  ctx.output('image-uri-digest', `${login.registry}/${plan.repository}@${digest}`)
  ctx.report.fact('Tags', plan.tags.join(', '))
  ctx.report.fact('Digest', digest)
  ctx.report.fact('Image URI', uris[0])
  ctx.report.headline = `pushed ${plan.tags.length} tag${plan.tags.length === 1 ? '' : 's'} to ${plan.repository}`
}
