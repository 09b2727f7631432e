import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { DatabaseSync } from 'node:sqlite'

export interface Reply {
  status: number
  /** Objects are sent as JSON, strings as text/plain. */
  body: unknown
  headers?: Record<string, string>
  /**
   * A server-sent event stream: `body` is sent as the first event and the response stays open
   * (a heartbeat every 15 s) until the client or the server goes away, as a live client's does.
   */
  stream?: boolean
}

export type Route = (request: IncomingMessage, url: URL) => Promise<Reply> | Reply

const BODY_LIMIT = 64 * 1024

export class HttpError extends Error {
  readonly status: number
  constructor(status: number, detail: string) {
    super(detail)
    this.status = status
  }
}

/** The request body as text, refusing anything larger than a login form should ever be. */
export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > BODY_LIMIT) throw new HttpError(413, 'Request body too large')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** JSON or an HTML form (FastAPI's OAuth2 password form), as a flat map of strings. */
export async function readFields(request: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(request)
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text))
  if (type !== '' && type !== 'application/json') {
    throw new HttpError(415, 'Send application/json or application/x-www-form-urlencoded')
  }
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>
  } catch {
    // answered below
  }
  throw new HttpError(400, 'Body must be a JSON object')
}

function send(response: ServerResponse, reply: Reply): void {
  if (reply.stream) {
    response.writeHead(reply.status, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
    response.write(`data: ${JSON.stringify(reply.body)}\n\n`)
    const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), 15_000)
    response.on('close', () => clearInterval(heartbeat))
    return
  }
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
  const type = typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'
  response.writeHead(reply.status, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    ...reply.headers,
  })
  response.end(text)
}

/**
 * Serves one route function, logging one line per request. Only the path is logged, never the query
 * string, headers or body: those are where tokens and passwords travel.
 */
export function serve(role: string, port: number, route: Route, onListening: () => void): Server {
  const server = createServer(async (request, response) => {
    const started = performance.now()
    const url = new URL(request.url ?? '/', 'http://localhost')
    response.on('finish', () => {
      const ms = (performance.now() - started).toFixed(1)
      console.log(`[${role}] ${request.method} ${url.pathname} ${response.statusCode} ${ms}ms`)
    })
    let reply: Reply
    try {
      reply = await route(request, url)
    } catch (error) {
      if (error instanceof HttpError) {
        reply = { status: error.status, body: { detail: error.message } }
      } else {
        console.error(`[${role}] error on ${request.method} ${url.pathname}: ${(error as Error).message}`)
        reply = { status: 500, body: { detail: 'Internal Server Error' } }
      }
    }
    send(response, reply)
  })
  // EADDRINUSE and the like: one clear line, not a stack trace.
  server.on('error', (error) => {
    console.error(`[${role}] fatal: cannot listen on :${port}: ${error.message}`)
    process.exit(1)
  })
  server.listen(port, onListening)
  return server
}

/**
 * SIGTERM (docker stop, ECS stopping a task) and SIGINT: stop serving, close the database so its
 * lock is released, exit 0. Node as PID 1 gets no default signal handling, so without this the
 * container would sit out the whole stop timeout and be killed.
 */
export function stopOnSignals(role: string, server: Server, databases: DatabaseSync[]): void {
  const stop = (signal: string) => {
    console.log(`[${role}] ${signal}: closing the database (releasing its lock) and exiting`)
    server.close()
    server.closeAllConnections()
    for (const db of databases) db.close()
    process.exit(0)
  }
  // Rehearsal faults (the fault campaign): a slow shutdown, or none at all until SIGKILL.
  const delay = process.env.SAMPLE_STOP_DELAY_SECONDS ?? ''
  const onSignal = (signal: string) => {
    if (delay === 'ignore')
      return console.log(`[${role}] ${signal}: ignored (SAMPLE_STOP_DELAY_SECONDS=ignore)`)
    if (Number(delay) > 0) {
      console.log(`[${role}] ${signal}: stopping in ${delay}s (SAMPLE_STOP_DELAY_SECONDS)`)
      return void setTimeout(() => stop(signal), Number(delay) * 1000)
    }
    stop(signal)
  }
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('SIGINT', () => onSignal('SIGINT'))
}

/** A port from the first of these variables that is set, else the default. */
export function portFrom(names: string[], fallback: number): number {
  for (const name of names) {
    const value = process.env[name]
    if (value === undefined || value === '') continue
    const port = Number(value)
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      console.error(`fatal: ${name}=${value} is not a TCP port`)
      process.exit(1)
    }
    return port
  }
  return fallback
}
