import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>
const KEY_LENGTH = 32

/** A salted scrypt hash, stored as "scrypt$<salt>$<hash>" (base64url): the password itself is never kept. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await scryptAsync(password, salt, KEY_LENGTH)
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`
}

// Compared against when the user does not exist, so a wrong username costs as long as a wrong password.
const DUMMY_HASH = `scrypt$${randomBytes(16).toString('base64url')}$${randomBytes(KEY_LENGTH).toString('base64url')}`

export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const [scheme, salt, hash] = (stored ?? DUMMY_HASH).split('$')
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false
  const expected = Buffer.from(hash, 'base64url')
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length)
  return timingSafeEqual(actual, expected) && stored !== undefined
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

function sign(data: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(data).digest()
}

/** An HS256 JWT for username, valid for ttlSeconds. */
export function issueToken(username: string, secret: string, ttlSeconds: number): string {
  const now = Math.floor(Date.now() / 1000)
  const data = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: username, iat: now, exp: now + ttlSeconds })}`
  return `${data}.${sign(data, secret).toString('base64url')}`
}

/** The token's subject if it is an HS256 JWT signed with secret and not expired, else undefined. */
export function verifyToken(token: string, secret: string): string | undefined {
  const [header, payload, signature] = token.split('.')
  if (header === undefined || payload === undefined || signature === undefined) return undefined
  const expected = sign(`${header}.${payload}`, secret)
  const actual = Buffer.from(signature, 'base64url')
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined
  try {
    const head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown }
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      sub?: unknown
      exp?: unknown
    }
    if (head.alg !== 'HS256' || typeof claims.sub !== 'string' || typeof claims.exp !== 'number')
      return undefined
    return claims.exp > Date.now() / 1000 ? claims.sub : undefined
  } catch {
    return undefined
  }
}
