import { request } from 'undici'

export type ProbeResult =
  { ok: true; status: number; body: string; ms: number } | { ok: false; error: string; ms: number }

const BODY_LIMIT = 2048

/**
 * One HTTP GET with its own deadline. Never throws: a refused or reset connection (Docker's
 * published port accepts before the app listens), a timeout or a DNS failure is a result, "not
 * ready yet", which the caller decides about. The connection is closed after each probe so a
 * restarted container is never reached through a stale socket.
 */
export async function probe(
  url: string,
  options: { timeoutMs: number; signal?: AbortSignal; headers?: Record<string, string> },
): Promise<ProbeResult> {
  return send('GET', url, options)
}

/**
 * One HTTP request with its own deadline; like probe, network failures are results, not throws.
 * The body is sent as given (JSON or form-encoded, per the content-type header the caller sets).
 */
export async function send(
  method: 'GET' | 'POST',
  url: string,
  options: { timeoutMs: number; signal?: AbortSignal; headers?: Record<string, string>; body?: string },
): Promise<ProbeResult> {
  const started = Date.now()
  const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]
  try {
    const response = await request(url, {
      method,
      reset: true,
      headers: { 'user-agent': 'ecs-lockstep-probe', ...options.headers },
      ...(options.body !== undefined ? { body: options.body } : {}),
      signal: AbortSignal.any(signals),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    })
    const body = await readLimited(response.body, BODY_LIMIT)
    return { ok: true, status: response.statusCode, body, ms: Date.now() - started }
  } catch (error) {
    return { ok: false, error: describeNetworkError(error, options.timeoutMs), ms: Date.now() - started }
  }
}

async function readLimited(
  body: AsyncIterable<Buffer> & { destroy(): void },
  limit: number,
): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    chunks.push(chunk)
    size += chunk.length
    if (size >= limit) {
      body.destroy()
      break
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8')
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
