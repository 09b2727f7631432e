import { inputError, maskSecret, secretInputError } from '@ecs-lockstep/core'

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

/** `<path> [<status>] [<text>]` per line; the text may be quoted. */
export function parseChecks(raw: string | undefined): HttpCheck[] {
  if (!raw) return []
  return raw
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^(\/\S*)(?:\s+(\d{3}))?(?:\s+(.+))?$/.exec(line)
      if (!match) {
        throw inputError(
          'checks',
          line,
          'expected <path> [<status>] [<text the body must contain>], e.g. /health/deep 200 "ok"',
        )
      }
      const [, path, status, text] = match as unknown as [string, string, string?, string?]
      const contains = text?.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/s, (whole, inner: string) =>
        // Keep quotes that are part of a JSON fragment such as "vector_store":"ok".
        inner.includes('"') ? whole : inner,
      )
      return { path, status: status ? Number(status) : 200, ...(contains ? { contains } : {}) }
    })
}

/** `username:password` per line. Errors never show the line: it holds a password. */
export function parseUsers(raw: string | undefined): ApiUser[] {
  if (!raw) return []
  return raw
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line, index) => {
      const colon = line.indexOf(':')
      if (colon <= 0 || colon === line.length - 1) {
        throw secretInputError(
          'create-users',
          `line ${index + 1} is not username:password (the line is not shown, it holds a password)`,
        )
      }
      const user = { username: line.slice(0, colon), password: line.slice(colon + 1) }
      maskSecret(user.password)
      return user
    })
}
