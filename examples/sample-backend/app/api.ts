import type { IncomingMessage } from 'node:http'
import { hashPassword, issueToken, verifyPassword, verifyToken } from './auth.ts'
import { HttpError, portFrom, readFields, type Reply, serve, stopOnSignals } from './http.ts'
import { openExclusiveOrExit } from './lock.ts'

// The seed's FastAPI container: SQLite on one EFS volume, the Qdrant sidecar reached on localhost.
const ROLE = 'api'
const version = process.env.APP_VERSION || 'dev'
const broken = process.env.SAMPLE_VARIANT === 'broken'
const port = portFrom(['PORT'], 8000)
const sqlitePath = process.env.SQLITE_PATH || '/data/app.db'
const qdrantUrl = (process.env.QDRANT_URL || 'http://localhost:6333').replace(/\/+$/, '')
const tokenTtlSeconds = 60 * Number(process.env.ACCESS_TOKEN_EXPIRE_MINUTES || 60)
const jwtSecret = process.env.JWT_SECRET ?? ''
if (jwtSecret === '') {
  console.error(
    `[${ROLE}] fatal: JWT_SECRET is not set; the api signs its login tokens with it and will not start without one`,
  )
  process.exit(1)
}
const defaultUsers = parseDefaultUsers(process.env.CREATE_DEFAULT_USER ?? '')

// Rehearsal faults (the fault campaign): start slowly, or crash some seconds after starting.
const startDelay = Number(process.env.SAMPLE_START_DELAY_SECONDS || 0)
if (startDelay > 0) await new Promise((resolve) => setTimeout(resolve, startDelay * 1000))
const crashAfter = Number(process.env.SAMPLE_CRASH_AFTER_SECONDS || 0)
if (crashAfter > 0) {
  setTimeout(() => {
    console.error(`[${ROLE}] fatal: crashing ${crashAfter}s after start (SAMPLE_CRASH_AFTER_SECONDS)`)
    process.exit(1)
  }, crashAfter * 1000).unref()
}

const db = openExclusiveOrExit(ROLE, sqlitePath)
db.exec(
  'CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created_at TEXT NOT NULL)',
)
const findUser = db.prepare('SELECT username, password_hash FROM users WHERE username = ?')
const insertUser = db.prepare('INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)')

for (const { username, password } of defaultUsers) {
  const created = await createUser(username, password)
  console.log(`[${ROLE}] default user ${username} ${created ? 'created' : 'already present'}`)
}

/** "user:pass[,user:pass]"; the value is never echoed, it holds passwords. */
function parseDefaultUsers(value: string): { username: string; password: string }[] {
  if (value.trim() === '') return []
  return value.split(',').map((entry) => {
    const at = entry.indexOf(':')
    const username = entry.slice(0, at).trim()
    const password = entry.slice(at + 1)
    if (at < 0 || validUsername(username) !== undefined || validPassword(password) !== undefined) {
      console.error(
        `[${ROLE}] fatal: CREATE_DEFAULT_USER must look like username:password[,username:password]`,
      )
      process.exit(1)
    }
    return { username, password }
  })
}

function validUsername(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.@-]{3,64}$/.test(value)) {
    return 'username must be 3 to 64 letters, digits or _ . @ -'
  }
  return undefined
}

function validPassword(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length < 6 || value.length > 256) {
    return 'password must be 6 to 256 characters'
  }
  return undefined
}

/** False when the user already exists. */
async function createUser(username: string, password: string): Promise<boolean> {
  if (findUser.get(username)) return false
  const hash = await hashPassword(password)
  try {
    insertUser.run(username, hash, new Date().toISOString())
    return true
  } catch (error) {
    // Two registrations raced past the check above: the primary key decides.
    if (/UNIQUE constraint failed/.test((error as Error).message)) return false
    throw error
  }
}

function storedHash(username: string): string | undefined {
  const row = findUser.get(username) as { password_hash: string } | undefined
  return row?.password_hash
}

function health(): Reply {
  if (broken) return { status: 503, body: { status: 'unhealthy', reason: 'simulated broken build', version } }
  return { status: 200, body: { status: 'healthy', version } }
}

/** The seed's "RAG system connectivity test" and "Qdrant database verification" in one answer. */
async function deepHealth(): Promise<Reply> {
  if (broken) return health()
  const checks: Record<string, string | number> = {}
  const failed: string[] = []
  try {
    db.prepare('SELECT count(*) AS n FROM users').get()
    checks.sqlite = 'ok'
  } catch (error) {
    checks.sqlite = `error: ${(error as Error).message}`
    failed.push('sqlite')
  }
  try {
    const response = await fetch(`${qdrantUrl}/collections`, { signal: AbortSignal.timeout(2000) })
    if (!response.ok) throw new Error(`GET /collections answered ${response.status}`)
    const body = (await response.json()) as { result?: { collections?: unknown[] } }
    checks.vector_store = 'ok'
    checks.collections = body.result?.collections?.length ?? 0
  } catch (error) {
    checks.vector_store = `error: ${describeFetchError(error)}`
    failed.push('vector_store')
  }
  if (failed.length > 0) return { status: 503, body: { status: 'unhealthy', failed, checks, version } }
  return { status: 200, body: { status: 'healthy', checks, version } }
}

function describeFetchError(error: unknown): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (err.name === 'TimeoutError') return `${qdrantUrl} did not answer within 2s`
  if (err.cause?.code) return `${qdrantUrl} unreachable (${err.cause.code})`
  return err.message ?? String(error)
}

async function register(request: IncomingMessage): Promise<Reply> {
  const { username, password } = await readFields(request)
  const invalid = validUsername(username) ?? validPassword(password)
  if (invalid !== undefined) throw new HttpError(400, invalid)
  if (!(await createUser(username as string, password as string))) {
    throw new HttpError(409, 'Username already registered')
  }
  return { status: 201, body: { username } }
}

const UNAUTHORIZED = { 'www-authenticate': 'Bearer' }

async function token(request: IncomingMessage): Promise<Reply> {
  const { username, password } = await readFields(request)
  if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
    throw new HttpError(400, 'username and password are required')
  }
  if (!(await verifyPassword(password, storedHash(username)))) {
    return { status: 401, body: { detail: 'Incorrect username or password' }, headers: UNAUTHORIZED }
  }
  return {
    status: 200,
    body: { access_token: issueToken(username, jwtSecret, tokenTtlSeconds), token_type: 'bearer' },
  }
}

/**
 * The seed's "RAG system connectivity test": a query that must reach the vector store. The sample
 * has no embeddings; it asks the store for its collections, as a real retrieval would first.
 */
async function ragQuery(request: IncomingMessage): Promise<Reply> {
  const { query } = await readFields(request)
  if (typeof query !== 'string' || query.trim() === '' || query.length > 2000)
    throw new HttpError(400, 'query must be 1 to 2000 characters')
  try {
    const response = await fetch(`${qdrantUrl}/collections`, { signal: AbortSignal.timeout(2000) })
    if (!response.ok) throw new Error(`GET /collections answered ${response.status}`)
    const body = (await response.json()) as { result?: { collections?: unknown[] } }
    return {
      status: 200,
      body: { status: 'ok', query, results: [], collections: body.result?.collections?.length ?? 0 },
    }
  } catch (error) {
    return { status: 503, body: { status: 'error', detail: `vector store: ${describeFetchError(error)}` } }
  }
}

function me(request: IncomingMessage): Reply {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')
  const username = match?.[1] === undefined ? undefined : verifyToken(match[1], jwtSecret)
  if (username === undefined || !findUser.get(username)) {
    return { status: 401, body: { detail: 'Could not validate credentials' }, headers: UNAUTHORIZED }
  }
  return { status: 200, body: { username } }
}

const routes: Record<string, Record<string, (request: IncomingMessage) => Promise<Reply> | Reply>> = {
  '/': { GET: () => ({ status: 200, body: { name: 'ecs-lockstep sample backend', version } }) },
  '/health': { GET: health },
  '/health/deep': { GET: deepHealth },
  '/api/v1/auth/register': { POST: register },
  '/api/v1/auth/token': { POST: token },
  '/api/v1/me': { GET: me },
  '/api/v1/rag/query': { POST: ragQuery },
  // A long-lived connection (server-sent events): it keeps a draining target busy, as live clients do.
  '/api/v1/events': { GET: () => ({ status: 200, body: { event: 'connected', version }, stream: true }) },
}

const server = serve(
  ROLE,
  port,
  (request, url) => {
    const methods = routes[url.pathname]
    if (!methods) return { status: 404, body: { detail: 'Not Found' } }
    const handler = methods[request.method ?? '']
    if (!handler) {
      return {
        status: 405,
        body: { detail: 'Method Not Allowed' },
        headers: { allow: Object.keys(methods).join(', ') },
      }
    }
    return handler(request)
  },
  () => {
    const build = broken ? 'broken build: /health answers 503' : 'good build'
    console.log(
      `[${ROLE}] sample-backend api version ${version} (${build}) listening on :${port}; ` +
        `sqlite ${sqlitePath} locked exclusively; vector store ${qdrantUrl}`,
    )
  },
)
stopOnSignals(ROLE, server, [db])
