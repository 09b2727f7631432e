import { maskSecret, shown } from '@ecs-lockstep/core'
import { URL_PATH, USERNAME, USERNAME_EXPECTED } from '@ecs-lockstep/core/references'

export interface HttpCheck {
  path: string
  status: number
  /** Text the body must contain. */
  contains?: string
}

export interface ApiUser {
  username: string
  password: string
}

type Parsed<T> = { value: T } | { problems: string[] }

/** `<path> [<status>] [<text>]` per line; the text may be quoted. At most the first 5 problems. */
export function parseChecks(raw: string): Parsed<HttpCheck[]> {
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
        problems.push(
          `line ${index + 1} ${shown(line)}: expected <path> [<status>] [<text the body must contain>], e.g. /health/deep 200 "ok"`,
        )
        return
      }
      const contains = text?.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/s, (whole, inner: string) =>
        // Keep quotes that are part of a JSON fragment such as "vector_store":"ok".
        inner.includes('"') ? whole : inner,
      )
      checks.push({ path, status: status ? Number(status) : 200, ...(contains ? { contains } : {}) })
    })
  return problems.length > 0 ? { problems: problems.slice(0, 5) } : { value: checks }
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
