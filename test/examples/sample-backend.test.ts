import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildSampleImage, removeSampleContext } from '../../examples/sample-backend/context.ts'

const IMAGE = 'lockstep-test/sample-backend:jest'
const BROKEN_IMAGE = 'lockstep-test/sample-backend:jest-broken'
// Fixed, so a rerun with unchanged sources gets the same image ids and leaves no dangling images.
const VERSION = '1.4.2-jest'
const LABEL = `ecs-lockstep.test=sample-backend-${process.pid}-${Date.now()}`
const JWT_SECRET = 'jwt-s3cret-that-must-never-be-logged'
const DEFAULT_USER = 'testuser:testpass123'
const PASSWORD = 'correct-horse-battery'

interface Exec {
  code: number
  stdout: string
  stderr: string
}

/** Runs the docker CLI; a non-zero exit is a result, not an exception. */
function docker(args: string[], timeoutMs = 20_000): Promise<Exec> {
  return new Promise((resolve) => {
    execFile('docker', args, { timeout: timeoutMs, maxBuffer: 8 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
      resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() })
    })
  })
}

async function dockerOk(args: string[]): Promise<string> {
  const result = await docker(args)
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${result.code}): ${result.stderr}`)
  return result.stdout
}

interface Run {
  role?: 'api' | 'vector-store' | 'cleanup'
  image?: string
  env?: Record<string, string>
  mounts?: Record<string, string>
  /** Join this container's network namespace, like containers of one awsvpc task. */
  networkOf?: string
  publish?: number[]
}

/** Starts a labelled container in the background and returns its id. */
function start(run: Run): Promise<string> {
  const args = ['run', '--detach', '--label', LABEL]
  for (const [key, value] of Object.entries(run.env ?? {})) args.push('--env', `${key}=${value}`)
  for (const [host, target] of Object.entries(run.mounts ?? {})) args.push('--volume', `${host}:${target}`)
  if (run.networkOf) args.push('--network', `container:${run.networkOf}`)
  for (const port of run.publish ?? []) args.push('--publish', `127.0.0.1::${port}`)
  args.push(run.image ?? IMAGE)
  if (run.role) args.push(run.role)
  return dockerOk(args)
}

/** Runs a container to its end: exit code and everything it printed. */
async function runToEnd(run: Run): Promise<{ code: number; logs: string }> {
  const id = await start(run)
  const waited = await docker(['wait', id], 15_000)
  if (waited.code !== 0) throw new Error(`${id} did not exit within 15 s`)
  return { code: Number(waited.stdout), logs: await logs(id) }
}

async function logs(id: string): Promise<string> {
  const { stdout, stderr } = await docker(['logs', id])
  return `${stdout}\n${stderr}`
}

async function hostPort(id: string, port: number): Promise<string> {
  const out = await dockerOk(['port', id, `${port}/tcp`])
  return `http://127.0.0.1:${out.split('\n')[0]?.split(':').pop()}`
}

/**
 * Polls until the URL answers at all. Docker's published port accepts and then resets connections
 * until the app inside listens: that is "not yet", like a refusal.
 */
async function answering(url: string, id: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await (await fetch(url, { signal: AbortSignal.timeout(1000) })).arrayBuffer()
      return
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`${url} never answered (${(error as Error).message}); logs:\n${await logs(id)}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

async function call(
  url: string,
  init: { method?: string; json?: unknown; form?: Record<string, string>; token?: string } = {},
): Promise<{ status: number; body: unknown; text: string }> {
  const headers: Record<string, string> = {}
  let body: string | URLSearchParams | undefined
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(init.json)
  }
  if (init.form) body = new URLSearchParams(init.form)
  if (init.token) headers.authorization = `Bearer ${init.token}`
  const response = await fetch(url, { method: init.method ?? 'GET', headers, body })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // plain text (the vector store's /healthz)
  }
  return { status: response.status, body: parsed, text }
}

function containerState(id: string): Promise<string> {
  return dockerOk(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id])
}

let root: string
let dataDir: string
let vectorDir: string
const api: { id: string; url: string; vectorUrl: string; vectorId: string } = {
  id: '',
  url: '',
  vectorUrl: '',
  vectorId: '',
}

/** The task: the api publishing both ports, the vector store in its network namespace. */
async function startTask(): Promise<void> {
  api.id = await start({
    env: { JWT_SECRET, CREATE_DEFAULT_USER: DEFAULT_USER },
    mounts: { [dataDir]: '/data' },
    publish: [8000, 6333],
  })
  api.vectorId = await start({
    role: 'vector-store',
    networkOf: api.id,
    mounts: { [vectorDir]: '/database' },
  })
  api.url = await hostPort(api.id, 8000)
  api.vectorUrl = await hostPort(api.id, 6333)
  await answering(`${api.url}/health`, api.id)
  await answering(`${api.vectorUrl}/healthz`, api.vectorId)
}

beforeAll(async () => {
  await buildSampleImage(IMAGE, { version: VERSION })
  await buildSampleImage(BROKEN_IMAGE, { version: VERSION, variant: 'broken' })
  root = mkdtempSync(join(tmpdir(), 'sample-backend-'))
  dataDir = join(root, 'data')
  vectorDir = join(root, 'database')
  mkdirSync(dataDir)
  mkdirSync(vectorDir)
  await startTask()
}, 120_000)

afterAll(async () => {
  const ids = (await docker(['ps', '--all', '--quiet', '--filter', `label=${LABEL}`])).stdout
  if (ids) await docker(['rm', '--force', '--volumes', ...ids.split('\n')])
  if (root) rmSync(root, { recursive: true, force: true })
  await docker(['rmi', '--force', IMAGE, BROKEN_IMAGE])
  removeSampleContext()
  expect((await docker(['ps', '--all', '--quiet', '--filter', `label=${LABEL}`])).stdout).toBe('')
}, 30_000)

describe('sample backend (on the real Docker engine)', () => {
  it('runs api and vector-store in one network namespace on two bind-mounted directories', async () => {
    expect(await call(`${api.url}/health`)).toMatchObject({
      status: 200,
      body: { status: 'healthy', version: VERSION },
    })
    expect(await call(`${api.vectorUrl}/healthz`)).toMatchObject({
      status: 200,
      text: 'healthz check passed',
    })
    expect((await call(`${api.vectorUrl}/readyz`)).status).toBe(200)
    const created = await call(`${api.vectorUrl}/collections/documents`, {
      method: 'PUT',
      json: { vectors: { size: 3, distance: 'Cosine' } },
    })
    expect(created).toMatchObject({ status: 200, body: { result: true, status: 'ok' } })
    expect((await call(`${api.vectorUrl}/collections/documents`, { method: 'PUT', json: {} })).status).toBe(
      409,
    )
    expect(await call(`${api.vectorUrl}/collections`)).toMatchObject({
      status: 200,
      body: { result: { collections: [{ name: 'documents' }] }, status: 'ok' },
    })
    // The api reaches the sidecar on localhost: they share one network namespace.
    expect(await call(`${api.url}/health/deep`)).toMatchObject({
      status: 200,
      body: { status: 'healthy', checks: { sqlite: 'ok', vector_store: 'ok', collections: 1 } },
    })
    expect(existsSync(join(dataDir, 'app.db'))).toBe(true)
    expect(existsSync(join(vectorDir, 'vectors.db'))).toBe(true)
  })

  it('registers users, issues HS256 tokens for JSON and form logins, and checks them', async () => {
    const base = `${api.url}/api/v1`
    const register = (json: unknown) => call(`${base}/auth/register`, { method: 'POST', json })
    const login = (fields: Record<string, string>, as: 'json' | 'form' = 'json') =>
      call(
        `${base}/auth/token`,
        as === 'json' ? { method: 'POST', json: fields } : { method: 'POST', form: fields },
      )
    const tokenOf = (reply: { body: unknown }) => (reply.body as { access_token: string }).access_token

    expect(await register({ username: 'alice', password: PASSWORD })).toMatchObject({
      status: 201,
      body: { username: 'alice' },
    })
    expect((await register({ username: 'alice', password: 'other-pass' })).status).toBe(409)
    expect((await register({ username: 'bob' })).status).toBe(400)
    expect((await register(['not', 'an', 'object'])).status).toBe(400)

    const byJson = await login({ username: 'alice', password: PASSWORD })
    expect(byJson).toMatchObject({ status: 200, body: { token_type: 'bearer' } })
    const token = tokenOf(byJson)
    const [header, , signature] = token.split('.')
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({
      alg: 'HS256',
      typ: 'JWT',
    })
    expect(await call(`${base}/me`, { token })).toMatchObject({ status: 200, body: { username: 'alice' } })

    // FastAPI's OAuth2 password form, with the default user created at start.
    const byForm = await login(
      { username: 'testuser', password: 'testpass123', grant_type: 'password' },
      'form',
    )
    expect(byForm.status).toBe(200)
    expect(await call(`${base}/me`, { token: tokenOf(byForm) })).toMatchObject({
      body: { username: 'testuser' },
    })

    expect((await login({ username: 'alice', password: 'wrong-password' })).status).toBe(401)
    expect((await login({ username: 'nobody', password: 'whatever' }, 'form')).status).toBe(401)
    expect((await call(`${base}/me`)).status).toBe(401)
    const claims = Buffer.from(JSON.stringify({ sub: 'testuser', exp: 9e9 })).toString('base64url')
    expect((await call(`${base}/me`, { token: `${header}.${claims}.${signature}` })).status).toBe(401)
  })

  it('logs one line per request and a start line with the version, but no password or JWT secret', async () => {
    const text = await logs(api.id)
    expect(text).toContain(`sample-backend api version ${VERSION}`)
    expect(text).toContain('default user testuser created')
    expect(text).toMatch(/POST \/api\/v1\/auth\/token 200/)
    expect(text).toMatch(/GET \/api\/v1\/me 401/)
    for (const secret of [JWT_SECRET, 'testpass123', PASSWORD]) expect(text).not.toContain(secret)
  })

  it('refuses a second api and a second vector-store on the same directories while the first run', async () => {
    const secondApi = await runToEnd({ env: { JWT_SECRET }, mounts: { [dataDir]: '/data' } })
    expect(secondApi.code).toBe(1)
    expect(secondApi.logs).toContain('database is locked')
    const secondStore = await runToEnd({ role: 'vector-store', mounts: { [vectorDir]: '/database' } })
    expect(secondStore.code).toBe(1)
    expect(secondStore.logs).toContain('database is locked')
    expect((await call(`${api.url}/health`)).status).toBe(200)
  })

  it('cleanup refuses, deleting nothing, while the databases are locked', async () => {
    const cleanup = await runToEnd({
      role: 'cleanup',
      mounts: { [dataDir]: '/data', [vectorDir]: '/database' },
    })
    expect(cleanup.code).toBe(1)
    expect(cleanup.logs).toContain('database is locked')
    expect(existsSync(join(dataDir, 'app.db'))).toBe(true)
    expect(existsSync(join(vectorDir, 'vectors.db'))).toBe(true)
  })

  it('stops on SIGTERM at once, releasing the locks; a new task starts on the same data, which persists', async () => {
    const started = Date.now()
    await dockerOk(['stop', api.vectorId, api.id])
    expect(Date.now() - started).toBeLessThan(5000)
    expect(await containerState(api.id)).toBe('exited 0')
    expect(await containerState(api.vectorId)).toBe('exited 0')
    expect(await logs(api.id)).toContain('SIGTERM')

    // The api alone: healthy for the load balancer, but the deep check names the missing sidecar.
    const alone = await start({ env: { JWT_SECRET }, mounts: { [dataDir]: '/data' }, publish: [8000] })
    const url = await hostPort(alone, 8000)
    await answering(`${url}/health`, alone)
    expect((await call(`${url}/health`)).status).toBe(200)
    const deep = await call(`${url}/health/deep`)
    expect(deep).toMatchObject({ status: 503, body: { status: 'unhealthy', failed: ['vector_store'] } })
    expect((deep.body as { checks: { vector_store: string } }).checks.vector_store).toMatch(/^error: /)
    const login = await call(`${url}/api/v1/auth/token`, {
      method: 'POST',
      json: { username: 'alice', password: PASSWORD },
    })
    expect(login.status).toBe(200)
    await dockerOk(['stop', alone])

    // The whole task again: collections persisted too.
    await startTask()
    expect(await call(`${api.vectorUrl}/collections`)).toMatchObject({
      body: { result: { collections: [{ name: 'documents' }] } },
    })
    expect(await call(`${api.url}/health/deep`)).toMatchObject({
      status: 200,
      body: { checks: { collections: 1 } },
    })
  })

  it('the broken variant listens but answers 503 on /health and /health/deep', async () => {
    const dir = join(root, 'broken-data')
    mkdirSync(dir)
    const id = await start({
      image: BROKEN_IMAGE,
      env: { JWT_SECRET },
      mounts: { [dir]: '/data' },
      publish: [8000],
    })
    const url = await hostPort(id, 8000)
    await answering(`${url}/health`, id)
    for (const path of ['/health', '/health/deep']) {
      expect(await call(`${url}${path}`)).toMatchObject({
        status: 503,
        body: { status: 'unhealthy', reason: 'simulated broken build', version: VERSION },
      })
    }
    expect((await call(`${url}/`)).status).toBe(200)
    await dockerOk(['stop', id])
  })

  it('the api refuses to start without JWT_SECRET', async () => {
    const run = await runToEnd({ mounts: { [join(root, 'no-secret')]: '/data' } })
    expect(run.code).toBe(1)
    expect(run.logs).toContain('JWT_SECRET is not set')
  })

  it('cleanup clears both directories once nothing holds them', async () => {
    await dockerOk(['stop', api.vectorId, api.id])
    mkdirSync(join(dataDir, 'uploads'))
    const cleanup = await runToEnd({
      role: 'cleanup',
      mounts: { [dataDir]: '/data', [vectorDir]: '/database' },
    })
    expect(cleanup.code).toBe(0)
    expect(cleanup.logs).toContain('removed /data/app.db')
    expect(cleanup.logs).toContain('removed /data/uploads/')
    expect(cleanup.logs).toContain('removed /database/vectors.db')
    expect(readdirSync(dataDir)).toEqual([])
    expect(readdirSync(vectorDir)).toEqual([])
  })
})
