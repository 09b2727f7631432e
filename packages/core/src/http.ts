import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

export type ProbeResult =
  { ok: true; status: number; body: string; ms: number } | { ok: false; error: string; ms: number }

/** How much of an answer's body is kept by default: enough for an error message. */
const BODY_LIMIT = 2048

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS'

export interface SendOptions {
  timeoutMs: number
  signal?: AbortSignal
  headers?: Record<string, string>
  body?: string
  /** Bytes of the answer's body to keep (default 2 KB); the rest is not read. */
  maxBodyBytes?: number
}

/**
 * One HTTP GET with its own deadline. Never throws: a refused or reset connection (Docker's
 * published port accepts before the app listens), a timeout or a DNS failure is a result, "not
 * ready yet", which the caller decides about. The connection is closed after each probe so a
 * restarted container is never reached through a stale socket.
 */
export async function probe(url: string, options: Omit<SendOptions, 'body'>): Promise<ProbeResult> {
  return send('GET', url, options)
}

/**
 * One HTTP request with its own deadline; like probe, network failures are results, not throws.
 * The body is sent as given (JSON or form-encoded, per the content-type header the caller sets).
 */
export async function send(method: HttpMethod, url: string, options: SendOptions): Promise<ProbeResult> {
  const started = Date.now()
  const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]
  try {
    const { status, body } = await exchange(method, new URL(url), {
      headers: { 'user-agent': 'ecs-lockstep-probe', ...options.headers },
      body: options.body,
      signal: AbortSignal.any(signals),
      limit: options.maxBodyBytes ?? BODY_LIMIT,
    })
    return { ok: true, status, body, ms: Date.now() - started }
  } catch (error) {
    return { ok: false, error: describeNetworkError(error, options.timeoutMs), ms: Date.now() - started }
  }
}

/**
 * One request on a connection of its own (Node's http, no agent: nothing pooled, nothing bundled),
 * reading at most `limit` bytes of the answer.
 */
function exchange(
  method: string,
  url: URL,
  options: { headers: Record<string, string>; body: string | undefined; signal: AbortSignal; limit: number },
): Promise<{ status: number; body: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const request = send(url, {
      method,
      agent: false,
      headers: { connection: 'close', ...options.headers },
      signal: options.signal,
    })
    request.on('error', reject)
    request.on('response', (response) => {
      const chunks: Buffer[] = []
      let size = 0
      const done = () =>
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).subarray(0, options.limit).toString('utf8'),
        })
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        size += chunk.length
        if (size >= options.limit) {
          response.destroy()
          done()
        }
      })
      response.on('end', done)
      response.on('error', reject)
    })
    request.end(options.body)
  })
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; code?: string; message?: string; cause?: { code?: string } }
  if (
    err.name === 'TimeoutError' ||
    err.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    err.code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return `no answer within ${timeoutMs}ms`
  }
  // An abort by the timeout signal carries it as the cause.
  if (err.name === 'AbortError' && (err.cause as { name?: string } | undefined)?.name === 'TimeoutError')
    return `no answer within ${timeoutMs}ms`
  if (err.name === 'AbortError') return 'aborted'
  const code = err.code ?? err.cause?.code
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset (nothing listening yet?)'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found'
    default:
      return code ? `${code}: ${err.message ?? ''}`.trim() : (err.message ?? String(error))
  }
}
