import { describe, expect, it, beforeAll } from '@jest/globals'
import { runAction } from '@ecs-lockstep/action-runner'
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildContext, removeAfterAll } from '../support/images.ts'
import { dockerConfigDir, useEcsLocal } from '../support/ecs-local.ts'

const ACTION = 'push-ecr'
const SHA = '4a4841fc33bbbc2e0123456789abcdef01234567'
const IMAGE = 'lockstep-test/push-source:jest'
const local = useEcsLocal()

function ecr(): ECRClient {
  return new ECRClient({ ...clientEnv(), endpoint: local.current.endpoint })
}

function clientEnv() {
  const env = local.current.awsEnv()
  return {
    region: env.AWS_REGION,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID as string,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
    },
  }
}

async function registryCredentials(): Promise<{ user: string; password: string; token: string }> {
  const data = (await ecr().send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0]
  const token = data?.authorizationToken as string
  const [user, password] = Buffer.from(token, 'base64').toString().split(':') as [string, string]
  return { user, password, token }
}

/** Reads the registry's own API, not ECR's: what was really pushed. */
async function registryGet(path: string, method = 'GET'): Promise<Response> {
  const { user, password } = await registryCredentials()
  return fetch(`http://${local.current.registryHost}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
      accept: 'application/vnd.docker.distribution.manifest.v2+json',
    },
  })
}

async function push(inputs: Record<string, string>, env: Record<string, string> = {}) {
  const dockerConfig = dockerConfigDir()
  const run = await runAction(ACTION, {
    inputs,
    env: { ...local.current.awsEnv(), GITHUB_SHA: SHA, DOCKER_CONFIG: dockerConfig, ...env },
    timeoutMs: 90_000,
  })
  return { run, dockerConfig }
}

beforeAll(() => {
  removeAfterAll(IMAGE)
  execFileSync('docker', ['build', '--quiet', '--tag', IMAGE, buildContext('healthy')])
})

describe('push-ecr (bundled, against ecs-local and a real registry)', () => {
  it('pushes the commit SHA and latest, and reports the digest the registry really has', async () => {
    await ecr().send(new CreateRepositoryCommand({ repositoryName: 'wwhd-dev-backend' }))
    const { run, dockerConfig } = await push({ image: IMAGE, repository: 'wwhd-dev-backend' })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    const host = local.current.registryHost as string
    expect(run.outputs.registry).toBe(host)
    expect(run.outputs['image-uri']).toBe(`${host}/wwhd-dev-backend:${SHA}`)
    expect(run.outputs['image-uris']).toBe(`${host}/wwhd-dev-backend:${SHA}\n${host}/wwhd-dev-backend:latest`)
    expect(run.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(run.outputs['image-uri-digest']).toBe(`${host}/wwhd-dev-backend@${run.outputs.digest}`)

    const tags = (await (await registryGet('/v2/wwhd-dev-backend/tags/list')).json()) as { tags: string[] }
    expect(tags.tags.sort()).toEqual([SHA, 'latest'].sort())
    for (const tag of [SHA, 'latest']) {
      const head = await registryGet(`/v2/wwhd-dev-backend/manifests/${tag}`, 'HEAD')
      expect(head.headers.get('docker-content-digest')).toBe(run.outputs.digest)
    }
    expect(run.summary).toContain('push-ecr: pushed 2 tags to wwhd-dev-backend')
    expect(run.summary).toContain(run.outputs.digest as string)

    // The post step logged out: no credentials for the registry remain in the Docker config.
    expect(run.post?.exitCode).toBe(0)
    expect(run.post?.log).toContain(`Logged out of http://${host}`)
    const config = join(dockerConfig, 'config.json')
    const auths = existsSync(config)
      ? (JSON.parse(readFileSync(config, 'utf8')) as { auths?: object }).auths
      : {}
    expect(Object.keys(auths ?? {})).not.toContain(`http://${host}`)
    expect(Object.keys(auths ?? {})).not.toContain(host)
  })

  it('never lets the registry password or the ECR token reach the log or the summary', async () => {
    await ecr().send(new CreateRepositoryCommand({ repositoryName: 'secret-check' }))
    const { run } = await push({ image: IMAGE, repository: 'secret-check', tags: 'v1' })
    expect(run.exitCode).toBe(0)
    const { password, token } = await registryCredentials()
    for (const secret of [password, token]) {
      expect(run.unmasked).not.toContain(secret)
      expect(run.post?.unmasked ?? '').not.toContain(secret)
      expect(run.summary).not.toContain(secret)
    }
    expect(run.raw).toContain(`::add-mask::${password}`)
  })

  it('refuses a missing repository before pushing anything, and says how to fix it', async () => {
    const { run } = await push({ image: IMAGE, repository: 'does-not-exist' })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toBe(
      "ECR repository 'does-not-exist' does not exist in region us-east-1. Nothing was pushed.\n" +
        'Create it (aws ecr create-repository --repository-name does-not-exist --region us-east-1) or set create-repository: true on this step.',
    )
    expect((await registryGet('/v2/does-not-exist/tags/list')).status).toBe(404)
    expect(run.state).toEqual({})
  })

  it('creates the repository when create-repository is true', async () => {
    const { run } = await push({
      image: IMAGE,
      repository: 'team/created-on-push',
      'create-repository': 'true',
      tags: 'first',
    })
    expect(run.exitCode).toBe(0)
    expect(run.log).toContain('Created ECR repository team/created-on-push.')
    const tags = (await (await registryGet('/v2/team/created-on-push/tags/list')).json()) as {
      tags: string[]
    }
    expect(tags.tags).toEqual(['first'])
  })

  it('refuses to overwrite a tag of an IMMUTABLE repository before pushing', async () => {
    await ecr().send(
      new CreateRepositoryCommand({ repositoryName: 'immutable-repo', imageTagMutability: 'IMMUTABLE' }),
    )
    const first = await push({ image: IMAGE, repository: 'immutable-repo', tags: 'v1' })
    expect(first.run.exitCode).toBe(0)
    const second = await push({ image: IMAGE, repository: 'immutable-repo', tags: 'v2, v1' })
    expect(second.run.exitCode).toBe(1)
    expect(second.run.errors[0]).toContain(
      "Tag 'v1' already exists in 'immutable-repo', whose tags are IMMUTABLE. Nothing was pushed.",
    )
    const tags = (await (await registryGet('/v2/immutable-repo/tags/list')).json()) as { tags: string[] }
    expect(tags.tags).toEqual(['v1'])
  })

  it('explains expired credentials', async () => {
    local.current.faults.set({
      failNext: {
        code: 'ExpiredTokenException',
        message: 'The security token included in the request is expired',
      },
    })
    const { run } = await push({ image: IMAGE, repository: 'wwhd-dev-backend' })
    local.current.faults.set({})
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toContain(
      'The AWS credentials have expired (ExpiredTokenException) while asking STS who the caller is.',
    )
    expect(run.errors[0]).toContain('configure-aws-credentials')
  })

  it('fails on a missing local image without calling AWS', async () => {
    const before = local.current.calls.records.length
    const { run } = await push({ image: 'lockstep-test/never-built:nope', repository: 'wwhd-dev-backend' })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toContain(
      "Image 'lockstep-test/never-built:nope' is not in the local Docker engine. Nothing was pushed.",
    )
    expect(local.current.calls.records.length).toBe(before)
  })

  describe('input errors (all before any AWS call)', () => {
    it.each([
      [{ repository: 'wwhd-dev-backend' }, {}, "Input 'image' is required."],
      [{ image: IMAGE }, {}, "Input 'repository' is required."],
      [
        { image: IMAGE, repository: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app' },
        {},
        `Input 'repository' "123456789012.dkr.ecr.us-east-1.amazonaws.com/app": expected an ECR repository name such as wwhd-dev-backend or team/api (lowercase, no registry host, no tag)`,
      ],
      [
        { image: IMAGE, repository: 'app', tags: 'ok, -bad' },
        {},
        `Input 'tags' "ok, -bad": "-bad" is not valid: expected a tag of letters, digits, _ . - (at most 128, not starting with . or -)`,
      ],
      [
        { image: IMAGE, repository: 'app', registry: 'https://example.com' },
        {},
        `Input 'registry' "https://example.com": expected a registry host such as 123456789012.dkr.ecr.us-east-1.amazonaws.com (no scheme, no path)`,
      ],
      [
        { image: IMAGE, repository: 'app', 'create-repository': 'yes' },
        {},
        `Input 'create-repository' "yes": expected true or false`,
      ],
      [
        { image: IMAGE, repository: 'app' },
        { GITHUB_SHA: '' },
        "Input 'tags': no tags given and GITHUB_SHA is not set: expected at least one tag",
      ],
      [{ image: IMAGE, repository: 'app' }, { AWS_REGION: '' }, "Input 'aws-region'"],
      [
        { image: IMAGE, repository: 'app', 'aws-region': 'moon-1' },
        {},
        `Input 'aws-region' "moon-1": expected a region such as us-east-1 or eu-west-2`,
      ],
    ])('%j %j → %s', async (inputs, env, message) => {
      const before = local.current.calls.records.length
      const { run } = await push(inputs, env)
      expect(run.exitCode).toBe(1)
      expect(run.errors[0]).toContain(message)
      expect(run.errors[0]).toContain('Nothing was changed')
      expect(local.current.calls.records.length).toBe(before)
    })
  })
})
