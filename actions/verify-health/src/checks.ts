import { maskSecret, parseDuration, shown } from '@ecs-lockstep/core'
import { URL_PATH, USERNAME, USERNAME_EXPECTED } from '@ecs-lockstep/core/references'
import { parse as parseYaml } from 'yaml'
import * as z from 'zod/mini'

export type CheckMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** One JSON expectation: the value at `path` (dots, array indexes as numbers) exists, or equals `equals`. */
export interface JsonExpectation {
  path: string
  exists: boolean
  equals?: unknown
}

export interface HttpCheck {
  /** How the log, the summary and the report name it. */
  name: string
  method: CheckMethod
  /** Relative to the service's URL; or `url`, absolute. */
  path?: string
  url?: string
  headers: Record<string, string>
  body?: string
  /** Statuses that pass (default 200). */
  status: number[]
  json: JsonExpectation[]
  /** Text the body must contain, or a pattern it must match. */
  contains?: string
  pattern?: RegExp
  maxLatencyMs?: number
}

export interface ApiUser {
  username: string
  password: string
}

type Parsed<T> = { value: T } | { problems: string[] }

const LINE_FORM = 'expected <path> [<status>] [<text the body must contain>], e.g. /health/deep 200 "ok"'
export const CHECKS_EXPECTED = `one check per line (${LINE_FORM.replace(/^expected /, '')}), or a YAML or JSON list of checks with name, path or url, method, headers, body, expect-status, expect-json, expect-body, max-latency`

/** `<path> [<status>] [<text>]` per line; the text may be quoted. */
function parseLines(raw: string): Parsed<HttpCheck[]> {
  const checks: HttpCheck[] = []
  const problems: string[] = []
  raw
    .split(/\r?\n/)
    .map((line) => line.trim())
    .forEach((line, index) => {
      if (!line || line.startsWith('#')) return
      const match = /^(\S+)(?:\s+(\d{3}))?(?:\s+(.+))?$/.exec(line)
      const [, path = '', status, text] = (match ?? []) as (string | undefined)[]
      if (!match || !URL_PATH.test(path) || (status && (Number(status) < 100 || Number(status) > 599))) {
        problems.push(`line ${index + 1} ${shown(line)}: ${LINE_FORM}`)
        return
      }
      const contains = text?.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/s, (whole, inner: string) =>
        // Keep quotes that are part of a JSON fragment such as "vector_store":"ok".
        inner.includes('"') ? whole : inner,
      )
      checks.push({
        name: path,
        method: 'GET',
        path,
        headers: {},
        status: [status ? Number(status) : 200],
        json: [],
        ...(contains ? { contains } : {}),
      })
    })
  return problems.length > 0 ? { problems: problems.slice(0, 5) } : { value: checks }
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/
const status = z.int().check(z.minimum(100), z.maximum(599))
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()])

const checkSchema = z.strictObject({
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  path: z.optional(z.string().check(z.regex(URL_PATH, 'expected a path starting with /'))),
  url: z.optional(z.string().check(z.regex(/^https?:\/\/[\x21-\x7e]{1,2048}$/, 'expected an http(s) URL'))),
  method: z.optional(z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'])),
  headers: z.optional(
    z.record(
      z.string().check(z.regex(HEADER_NAME, 'expected a header name')),
      z.union([z.string().check(z.regex(/^[^\r\n]*$/, 'expected a single line')), z.number()]),
    ),
  ),
  body: z.optional(z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])),
  'expect-status': z.optional(z.union([status, z.array(status).check(z.minLength(1))])),
  'expect-json': z.optional(
    z.record(
      z.string().check(z.minLength(1)),
      z.union([scalar, z.array(z.unknown()), z.record(z.string(), z.unknown())]),
    ),
  ),
  'expect-body': z.optional(z.string().check(z.minLength(1), z.maxLength(1000))),
  'max-latency': z.optional(z.union([z.string(), z.int().check(z.minimum(1))])),
  /** Headers whose values are masked in the log (credential-like names always are). */
  'secret-headers': z.optional(z.array(z.string().check(z.regex(HEADER_NAME, 'expected a header name')))),
})

/** Header names whose values are credentials whatever the check says. */
const CREDENTIAL_HEADER =
  /^(authorization|proxy-authorization|cookie|x-api-key)$|token|secret|api-?key|password/i

/** `/pattern/flags` is a regular expression; anything else a substring. */
function bodyExpectation(text: string): { contains?: string; pattern?: RegExp } | string {
  const regex = /^\/(.+)\/([dgimsuy]*)$/s.exec(text)
  if (!regex) return { contains: text }
  try {
    return { pattern: new RegExp(regex[1] as string, (regex[2] as string).replace('g', '')) }
  } catch (error) {
    return `expect-body is not a valid regular expression (${(error as Error).message.slice(0, 100)})`
  }
}

function toCheck(raw: z.infer<typeof checkSchema>, index: number): HttpCheck | string {
  const where = `check ${index + 1}${raw.name ? ` (${shown(raw.name)})` : ''}`
  if (Boolean(raw.path) === Boolean(raw.url)) return `${where}: expected a path or a url (one of them)`
  const method = raw.method ?? (raw.body === undefined ? 'GET' : 'POST')
  const headers = Object.fromEntries(
    Object.entries(raw.headers ?? {}).map(([key, value]) => [key.toLowerCase(), String(value)]),
  )
  const secret = new Set((raw['secret-headers'] ?? []).map((h) => h.toLowerCase()))
  for (const [key, value] of Object.entries(headers)) {
    if (secret.has(key) || CREDENTIAL_HEADER.test(key)) {
      maskSecret(value)
      // "Bearer <token>": the token alone may be printed elsewhere (an echoed curl), mask it too.
      maskSecret(value.replace(/^(Bearer|Basic|Token)\s+/i, ''))
    }
  }
  let body: string | undefined
  if (typeof raw.body === 'string') body = raw.body
  else if (raw.body !== undefined) {
    body = JSON.stringify(raw.body)
    headers['content-type'] ??= 'application/json'
  }
  let maxLatencyMs: number | undefined
  if (typeof raw['max-latency'] === 'number') maxLatencyMs = raw['max-latency']
  else if (raw['max-latency'] !== undefined) {
    maxLatencyMs = parseDuration(raw['max-latency'])
    if (maxLatencyMs === undefined || maxLatencyMs <= 0)
      return `${where}: max-latency ${shown(raw['max-latency'])} is not a duration: expected e.g. 500ms or 2s`
  }
  const expectation = raw['expect-body'] === undefined ? {} : bodyExpectation(raw['expect-body'])
  if (typeof expectation === 'string') return `${where}: ${expectation}`
  const expectStatus = raw['expect-status']
  return {
    name: raw.name ?? `${method} ${raw.path ?? raw.url}`,
    method,
    ...(raw.path ? { path: raw.path } : {}),
    ...(raw.url ? { url: raw.url } : {}),
    headers,
    ...(body !== undefined ? { body } : {}),
    status: expectStatus === undefined ? [200] : Array.isArray(expectStatus) ? expectStatus : [expectStatus],
    json: Object.entries(raw['expect-json'] ?? {}).map(([path, equals]) =>
      equals === '*' ? { path, exists: true } : { path, exists: true, equals },
    ),
    ...expectation,
    ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
  }
}

/** A YAML or JSON list of check objects. */
function parseList(raw: string): Parsed<HttpCheck[]> {
  let data: unknown
  try {
    // maxAliasCount keeps an alias bomb from expanding; a JSON list is YAML too.
    data = parseYaml(raw, { maxAliasCount: 50, prettyErrors: false })
  } catch (error) {
    const at = /at line (\d+)/.exec((error as Error).message)?.[1]
    return {
      problems: [
        `it is not a valid YAML or JSON list${at ? ` (line ${at})` : ''}: expected ${CHECKS_EXPECTED}`,
      ],
    }
  }
  const list = z.array(checkSchema).check(z.minLength(1), z.maxLength(50)).safeParse(data)
  if (!list.success) {
    return {
      problems: list.error.issues.slice(0, 5).map((issue) => {
        const [index, ...field] = issue.path
        const at =
          typeof index === 'number' ? `check ${index + 1}${field.length ? `, ${field.join('.')}` : ''}: ` : ''
        const keys =
          issue.code === 'unrecognized_keys' ? ` (${issue.keys.map((k) => shown(k)).join(', ')})` : ''
        return `${at}${issue.message}${keys}`
      }),
    }
  }
  const checks: HttpCheck[] = []
  const problems: string[] = []
  list.data.forEach((item, index) => {
    const check = toCheck(item, index)
    if (typeof check === 'string') problems.push(check)
    else checks.push(check)
  })
  const names = checks.map((c) => c.name)
  const twice = names.find((name, i) => names.indexOf(name) !== i)
  if (twice) problems.push(`two checks are named ${shown(twice)}: expected unique names`)
  return problems.length > 0 ? { problems: problems.slice(0, 5) } : { value: checks }
}

/** The one-line form, or a YAML/JSON list (it starts with `-` or `[`). At most the first 5 problems. */
export function parseChecks(raw: string): Parsed<HttpCheck[]> {
  const first = raw.trimStart()
  return first.startsWith('[') || first.startsWith('- ') || first.startsWith('-\n')
    ? parseList(raw)
    : parseLines(raw)
}

/** `username:password` per line. Errors never show the line: it holds a password. */
export function parseUsers(raw: string): Parsed<ApiUser[]> {
  const users: ApiUser[] = []
  const problems: string[] = []
  raw
    .split(/\r?\n/)
    .map((line) => line.trim())
    .forEach((line, index) => {
      if (!line) return
      const colon = line.indexOf(':')
      if (colon <= 0 || colon === line.length - 1) {
        problems.push(
          `line ${index + 1} is not username:password (the line is not shown, it holds a password)`,
        )
        return
      }
      const user = { username: line.slice(0, colon), password: line.slice(colon + 1) }
      maskSecret(user.password)
      if (!USERNAME.test(user.username)) {
        problems.push(
          `line ${index + 1}: the username is not ${USERNAME_EXPECTED} (the line is not shown, it holds a password)`,
        )
        return
      }
      users.push(user)
    })
  return problems.length > 0 ? { problems: problems.slice(0, 5) } : { value: users }
}

/** Well-known passwords (the seed's own among them), refused unless allow-weak-passwords is true. */
const WELL_KNOWN = new Set([
  'testpass123',
  'bulk123',
  'password',
  'password1',
  'password123',
  'passw0rd',
  '123456',
  '12345678',
  '123456789',
  '1234567890',
  'qwerty',
  'qwerty123',
  'abc123',
  'admin',
  'admin123',
  'administrator',
  'letmein',
  'welcome',
  'welcome123',
  'changeme',
  'secret',
  'test',
  'test123',
  'testpass',
  'iloveyou',
  'monkey',
  'dragon',
  'football',
  'baseball',
  'sunshine',
  'princess',
  'trustno1',
  'default',
  'guest',
  'root',
  'toor',
  'pass',
  'pass123',
  'p@ssw0rd',
  'p@ssword',
  'passwordpassword',
  'qwertyuiopasdf',
  '123456789012',
])

export const MIN_PASSWORD_LENGTH = 12

/** Why each user's password is weak; the password itself is never in the text. */
export function weakPasswordProblems(users: ApiUser[]): string[] {
  const problems: string[] = []
  for (const { username, password } of users) {
    const why = WELL_KNOWN.has(password.toLowerCase())
      ? 'is a well-known password'
      : password.length < MIN_PASSWORD_LENGTH
        ? `has ${password.length} characters`
        : password.toLowerCase().includes(username.toLowerCase())
          ? 'contains the username'
          : undefined
    if (why)
      problems.push(
        `Input 'create-users': the password of ${username} ${why}: expected at least ${MIN_PASSWORD_LENGTH} characters, not a well-known password and not containing the username (or allow-weak-passwords: true)`,
      )
  }
  return problems.slice(0, 5)
}
