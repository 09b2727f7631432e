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
      if (req.url === '/api/v1/rag/query' && req.method === 'POST') {
        const authorized = req.headers.authorization === 'Bearer rag-token-0a1b2c3d4e'
        const query = (JSON.parse(body || '{}') as { query?: string }).query
        return authorized
          ? reply(200, { status: 'ok', query, results: [{ id: 'doc-1', score: 0.9 }], vector_store: 'ok' })
          : reply(401, { detail: 'Not authenticated' })
      }
      // Another app's shapes: form registration with "login"/"secret", JSON login, a nested token.
      if (req.url === '/other/register' && req.method === 'POST') {
        const form = new URLSearchParams(body)
        if (!form.get('login') || !form.get('secret')) return reply(422, { detail: 'login and secret' })
        if (users.has(form.get('login') as string)) return reply(409, { detail: 'exists' })
        users.set(form.get('login') as string, form.get('secret') as string)
        return reply(201, {})
      }
      if (req.url === '/other/login' && req.method === 'POST') {
        const { login, secret } = JSON.parse(body || '{}') as { login?: string; secret?: string }
        return users.get(login ?? '') === secret
          ? reply(200, { data: { token: `nested-${login}-tok` } })
          : reply(401, { detail: 'no' })
      }
      if (req.url === '/slow') {
        setTimeout(() => reply(200, { status: 'ok' }), 400)
        return
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
      'GET /health/deep: answered 503 (expected 200): {"status":"unhealthy","checks":{"vector_store":"error: unreachable"}}',
    )
    expect(run.summary).toContain('FAIL GET /health/deep')
  })

  it('runs a YAML list of checks concurrently: POST with a JSON body and a secret header, expect-json, a regex, max-latency; report output', async () => {
    deepMode = 'ok'
    const run = await verify({
      url: base,
      consecutive: '2',
      checks: [
        '- name: rag connectivity',
        '  path: /api/v1/rag/query',
        '  method: POST',
        '  headers: { Authorization: Bearer rag-token-0a1b2c3d4e }',
        '  body: { query: connectivity test, limit: 1 }',
        '  expect-json: { status: ok, results.0.id: doc-1, vector_store: "*" }',
        '- name: qdrant',
        '  path: /health/deep',
        '  expect-json: { checks.vector_store: ok }',
        '  expect-body: /"sqlite":\\s*"ok"/',
        '  max-latency: 2s',
      ].join('\n'),
    })
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.summary).toContain(
      'PASS rag connectivity: POST /api/v1/rag/query (expect 200, status = &quot;ok&quot;',
    )
    expect(run.unmasked).not.toContain('rag-token-0a1b2c3d4e')
    expect(run.commands).toContainEqual(
      expect.objectContaining({ name: 'add-mask', value: 'Bearer rag-token-0a1b2c3d4e' }),
    )
    const report = JSON.parse(run.outputs.report as string) as {
      url: string
      checks: {
        name: string
        attempts: number
        passes: number
        ok: boolean
        lastStatus: number
        lastLatencyMs: number
      }[]
    }
    expect(report.url).toBe(base)
    expect(report.checks.map((c) => [c.name, c.ok, c.lastStatus])).toEqual([
      ['/health', true, 200],
      ['rag connectivity', true, 200],
      ['qdrant', true, 200],
    ])
    for (const check of report.checks) {
      expect(check.passes).toBeGreaterThanOrEqual(2)
      expect(check.lastLatencyMs).toBeGreaterThanOrEqual(0)
    }
  })

  it.each([
    [
      '[{"name":"rag","path":"/api/v1/rag/query","method":"POST","body":{"query":"x"}}]',
      'POST rag: answered 401 (expected 200): {"detail":"Not authenticated"}',
    ],
    [
      '[{"name":"slow","path":"/slow","max-latency":"100ms"}]',
      /GET slow: answered 200 in \d+ms, slower than max-latency 100ms/,
    ],
    [
      '[{"name":"deep","path":"/health/deep","expect-json":{"checks.vector_store":"down"}}]',
      'GET deep: answered 200 in',
    ],
  ])('fails a check that does not hold, with its last status and body: %s', async (checks, expected) => {
    deepMode = 'ok'
    const run = await verify({ url: base, checks, timeout: '3s', consecutive: '1' })
    expect(run.exitCode).toBe(1)
    if (typeof expected === 'string') expect(run.errors[0]).toContain(expected)
    else expect(run.errors[0]).toMatch(expected)
    const report = JSON.parse(run.outputs.report as string) as { checks: { ok: boolean; error?: string }[] }
    expect(report.checks[1]?.ok).toBe(false)
    expect(report.checks[1]?.error).toBeTruthy()
  })

  it.each([
    [
      '- name: a\n  path: /x\n  url: http://example.com/x',
      'check 1 ("a"): expected a path or a url (one of them)',
    ],
    ['- path: /x\n  expect-satus: 200', 'check 1: '],
    ['[{"path":"/x","expect-body":"/(unclosed/"}]', 'expect-body is not a valid regular expression'],
    ['- path: /x\n  max-latency: soon', 'max-latency "soon" is not a duration'],
    ['- [unclosed', 'it is not a valid YAML or JSON list'],
  ])('refuses a malformed check list, naming the check: %s', async (checks, expected) => {
    const run = await verify({ url: base, checks })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toContain("Input 'checks'")
    expect(run.errors[0]).toContain(expected)
  })

  it("speaks another app's register and login shapes: form fields, JSON login, a nested token", async () => {
    const inputs = {
      url: base,
      consecutive: '1',
      'create-users': 'carol:a-long-enough-passphrase-1',
      'register-path': '/other/register',
      'token-path': '/other/login',
      'register-format': 'form',
      'token-format': 'json',
      'username-field': 'login',
      'password-field': 'secret',
    }
    const wrongField = await verify(inputs)
    expect(wrongField.exitCode).toBe(1)
    expect(wrongField.errors[0]).toContain(
      'carol was created but cannot log in: answered 200 without a token at access_token (the body is not shown',
    )
    expect(wrongField.unmasked).not.toContain('nested-carol-tok')
    const run = await verify({ ...inputs, 'token-field': 'data.token' })
    expect(run.errors).toEqual([])
    expect(run.log).toContain('carol: already existed, logs in.')
    expect(run.unmasked).not.toContain('nested-carol-tok')
  })

  it('reports every bad input at once, its own checks and those across inputs, in one error', async () => {
    const run = await verify({
      url: base,
      cluster: 'c',
      consecutive: '0',
      'create-users': 'ops:short',
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]?.split('\n').slice(0, 4)).toEqual([
      '3 inputs are invalid:',
      `- Input 'consecutive' "0": expected a whole number from 1 to 100`,
      "- Input 'service': cluster and service go together: expected both or neither",
      "- Input 'create-users': the password of ops has 5 characters: expected at least 12 characters, not a well-known password and not containing the username (or allow-weak-passwords: true)",
    ])
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
