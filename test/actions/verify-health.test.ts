import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { runAction } from '@ecs-lockstep/action-runner'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A stand-in API behind "the load balancer": health, a deep check that can flap, register and token. */
let server: Server
let base = ''
let deepCalls = 0
let deepMode: 'ok' | 'flapping' | 'down' = 'ok'
const users = new Map<string, string>([['bulk_import', 'another-password']])
const requests: string[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const reply = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(value))
      }
      if (req.url === '/health') return reply(200, { status: 'healthy' })
      if (req.url === '/health/deep') {
        deepCalls++
        const up = deepMode === 'ok' || (deepMode === 'flapping' && deepCalls % 2 === 0)
        return up
          ? reply(200, { status: 'healthy', checks: { sqlite: 'ok', vector_store: 'ok' } })
          : reply(503, { status: 'unhealthy', checks: { vector_store: 'error: unreachable' } })
      }
      if (req.url === '/api/v1/auth/register' && req.method === 'POST') {
        const { username, password } = JSON.parse(body) as { username: string; password: string }
        if (users.has(username)) return reply(409, { detail: 'Username already registered' })
        users.set(username, password)
        return reply(201, { username })
      }
      if (req.url === '/api/v1/auth/token' && req.method === 'POST') {
        const form = new URLSearchParams(body)
        const ok = users.get(form.get('username') ?? '') === form.get('password')
        return ok
          ? reply(200, { access_token: `tok-${form.get('username')}-secret`, token_type: 'bearer' })
          : reply(401, { detail: 'Incorrect username or password' })
      }
      reply(404, { detail: 'Not Found' })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

// Most cases here are about the checks themselves: no minimum span unless the case says so.
const verify = (inputs: Record<string, string>) =>
  runAction('verify-health', { inputs: { 'stable-for': '0s', ...inputs }, timeoutMs: 60_000 })

describe('verify-health (bundled, against a real HTTP server)', () => {
  it('passes when every check passes three rounds in a row, creates the users, and they can log in', async () => {
    deepMode = 'ok'
    const run = await verify({
      url: `${base}/`,
      checks: '/health/deep 200 "vector_store":"ok"',
      'create-users': 'testuser:testpass123\nbulk2:bulk123',
      // The seed's own users: weak, accepted here on purpose.
      'allow-weak-passwords': 'true',
    })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.outputs.url).toBe(base)
    expect(run.outputs.users).toBe('testuser,bulk2')
    expect(Number(run.outputs['seconds-to-verified'])).toBeGreaterThanOrEqual(2)
    expect(run.log).toContain('testuser: created, logs in.')
    expect(run.summary).toContain(
      'PASS GET /health/deep (expect 200, containing &quot;vector_store&quot;:&quot;ok&quot;)',
    )
    for (const secret of ['testpass123', 'bulk123', 'tok-testuser-secret']) {
      expect(run.unmasked).not.toContain(secret)
      expect(run.summary).not.toContain(secret)
    }
  })

  it('makes its rounds span stable-for: quick passing answers alone are not enough', async () => {
    deepMode = 'ok'
    const run = await verify({ url: base, 'stable-for': '4s' })
    expect(run.errors).toEqual([])
    expect(Number(run.outputs['seconds-to-verified'])).toBeGreaterThanOrEqual(4)
    expect(run.log).toContain('all checks pass; watching for 4.0s (stable-for)')
    const short = await verify({ url: base, 'stable-for': '4s', timeout: '2s' })
    expect(short.exitCode).toBe(1)
    expect(short.errors[0]).toMatch(
      /^Timed out after [12]\.\ds waiting for every check to pass 3 time\(s\) in a row over at least 4\.0s\. Last seen: all checks pass; watching for 4\.0s \(stable-for\)\./,
    )
  })

  it('accepts users that already exist with the same password', async () => {
    const run = await verify({
      url: base,
      consecutive: '1',
      'create-users': 'testuser:testpass123',
      'allow-weak-passwords': 'true',
    })
    expect(run.exitCode).toBe(0)
    expect(run.log).toContain('testuser: already existed, logs in.')
  })

  it('fails a deep check that flaps: one good answer is not health', async () => {
    deepMode = 'flapping'
    const run = await verify({ url: base, checks: '/health/deep 200', timeout: '5s' })
    deepMode = 'ok'
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toMatch(
      /^Timed out after [45]\.\ds waiting for every check to pass 3 time\(s\) in a row\. Last seen: /,
    )
    expect(run.summary).toContain('GET /health/deep')
  })

  it('fails with the body when the deep check stays down', async () => {
    deepMode = 'down'
    const run = await verify({ url: base, checks: '/health/deep', timeout: '3s', consecutive: '1' })
    deepMode = 'ok'
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toContain(
      'GET /health/deep: answered 503: {"status":"unhealthy","checks":{"vector_store":"error: unreachable"}}',
    )
    expect(run.summary).toContain('FAIL GET /health/deep')
  })

  it('refuses weak passwords before any request, naming the user and never the password', async () => {
    const since = requests.length
    const run = await verify({
      url: base,
      'create-users':
        'testuser:testpass123\nbulk_import:bulk123\nops:short\nlongenough:LONGENOUGH-and-more\nstrong:correct-horse-battery-staple',
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toBe(
      [
        '4 inputs are invalid:',
        "- Input 'create-users': the password of testuser is a well-known password: expected at least 12 characters, not a well-known password and not containing the username (or allow-weak-passwords: true)",
        "- Input 'create-users': the password of bulk_import is a well-known password: expected at least 12 characters, not a well-known password and not containing the username (or allow-weak-passwords: true)",
        "- Input 'create-users': the password of ops has 5 characters: expected at least 12 characters, not a well-known password and not containing the username (or allow-weak-passwords: true)",
        "- Input 'create-users': the password of longenough contains the username: expected at least 12 characters, not a well-known password and not containing the username (or allow-weak-passwords: true)",
        'Fix the `with:` block of this step. Nothing was changed.',
      ].join('\n'),
    )
    expect(requests.length).toBe(since)
    for (const secret of ['testpass123', 'bulk123', 'short', 'LONGENOUGH-and-more'])
      expect(run.unmasked).not.toContain(secret)
  })

  it('says when an existing user cannot log in with the given password', async () => {
    const run = await verify({
      url: base,
      consecutive: '1',
      'create-users': 'bulk_import:bulk123',
      'allow-weak-passwords': 'true',
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toContain('bulk_import was already there but cannot log in: answered 401')
    expect(run.errors[0]).toContain('The user exists with another password')
  })

  it.each([
    [
      {},
      `Input 'url': expected a URL such as https://api.example.com, or cluster and service to find the load balancer`,
    ],
    [
      { url: 'api.example.com' },
      `Input 'url' "api.example.com": expected an absolute http:// or https:// URL`,
    ],
    [{ url: 'https://x.example', cluster: 'c' }, "Input 'service': cluster and service go together"],
    [
      { url: 'https://x.example', checks: 'health 200' },
      `Input 'checks': line 1 "health 200": expected <path> [<status>] [<text the body must contain>]`,
    ],
    [
      { url: 'https://x.example', consecutive: '0' },
      `Input 'consecutive' "0": expected a whole number from 1 to 100`,
    ],
    [
      { url: 'https://x.example', 'create-users': 'testuser testpass123' },
      `Input 'create-users': line 1 is not username:password`,
    ],
  ])('input error %j → %s', async (inputs, message) => {
    const run = await verify(inputs)
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toContain(message)
    expect(run.unmasked).not.toContain('testpass123')
  })
})
