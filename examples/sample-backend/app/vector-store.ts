import type { IncomingMessage } from 'node:http'
import { portFrom, readBody, type Reply, serve, stopOnSignals } from './http.ts'
import { openExclusiveOrExit } from './lock.ts'

// A stand-in for the seed's Qdrant sidecar: its HTTP shape for what the api and deploy checks call,
// and its one-process-per-volume lock.
const ROLE = 'vector-store'
const version = process.env.APP_VERSION || 'dev'
const port = portFrom(['QDRANT__SERVICE__HTTP_PORT', 'PORT'], 6333)
const dbPath = process.env.VECTOR_DB_PATH || '/database/vectors.db'

const db = openExclusiveOrExit(ROLE, dbPath)
db.exec(
  'CREATE TABLE IF NOT EXISTS collections (name TEXT PRIMARY KEY, config TEXT NOT NULL, created_at TEXT NOT NULL)',
)
const listCollections = db.prepare('SELECT name FROM collections ORDER BY name')
const findCollection = db.prepare('SELECT name, config FROM collections WHERE name = ?')
const insertCollection = db.prepare('INSERT INTO collections (name, config, created_at) VALUES (?, ?, ?)')
const deleteCollection = db.prepare('DELETE FROM collections WHERE name = ?')

/** Qdrant's envelope: result, status and the time taken in seconds. */
function ok(result: unknown, started: number): Reply {
  return { status: 200, body: { result, status: 'ok', time: (performance.now() - started) / 1000 } }
}

function fail(status: number, error: string): Reply {
  return { status, body: { status: { error } } }
}

async function collection(request: IncomingMessage, name: string, started: number): Promise<Reply> {
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(name))
    return fail(422, `Validation error: invalid collection name ${name}`)
  const row = findCollection.get(name) as { config: string } | undefined
  switch (request.method) {
    case 'GET':
      if (!row) return fail(404, `Not found: Collection \`${name}\` doesn't exist!`)
      return ok({ status: 'green', config: JSON.parse(row.config) as unknown }, started)
    case 'PUT': {
      const text = await readBody(request)
      let config: unknown = {}
      try {
        config = text.trim() === '' ? {} : JSON.parse(text)
      } catch {
        return fail(400, 'Format error in JSON body')
      }
      // 409 since Qdrant 1.8 (400 before).
      if (row) return fail(409, `Wrong input: Collection \`${name}\` already exists!`)
      insertCollection.run(name, JSON.stringify(config), new Date().toISOString())
      return ok(true, started)
    }
    case 'DELETE':
      return ok(deleteCollection.run(name).changes > 0, started)
    default:
      return {
        status: 405,
        body: { status: { error: 'Method Not Allowed' } },
        headers: { allow: 'GET, PUT, DELETE' },
      }
  }
}

const server = serve(
  ROLE,
  port,
  (request, url) => {
    const started = performance.now()
    const path = url.pathname
    const named = /^\/collections\/([^/]+)$/.exec(path)
    if (named?.[1] !== undefined) return collection(request, named[1], started)
    if (request.method !== 'GET') return { status: 405, body: { status: { error: 'Method Not Allowed' } } }
    switch (path) {
      case '/':
        return {
          status: 200,
          body: { title: 'qdrant - vector search engine (ecs-lockstep stand-in)', version },
        }
      case '/healthz':
      case '/livez':
        return { status: 200, body: 'healthz check passed' }
      case '/readyz':
        return { status: 200, body: 'all shards are ready' }
      case '/collections':
        return ok({ collections: listCollections.all().map((row) => ({ name: row.name })) }, started)
      default:
        return fail(404, `Not found: ${path}`)
    }
  },
  () =>
    console.log(
      `[${ROLE}] sample-backend vector-store version ${version} listening on :${port}; ${dbPath} locked exclusively`,
    ),
)
stopOnSignals(ROLE, server, [db])
