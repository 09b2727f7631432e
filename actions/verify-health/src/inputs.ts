import { bool, custom, duration, integer, oneOf, region, text, url } from '@ecs-lockstep/core'
import { clusterProblem, serviceProblem, URL_PATH } from '@ecs-lockstep/core/references'
import { parseChecks, parseUsers, type ApiUser, type HttpCheck } from './checks.ts'

/** A request or answer field name (`access_token`, `data.token` for a nested answer field). */
const FIELD = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/
const FIELD_EXPECTED = 'expected a field name: letters, digits, _ . -, starting with a letter or _'

export const inputs = {
  url: url(),
  cluster: text({ check: clusterProblem }),
  service: text({ check: serviceProblem }),
  'health-path': text({
    default: '/health',
    pattern: URL_PATH,
    expected: 'expected a path starting with /, such as /health',
  }),
  'expect-status': integer({
    default: '200',
    min: 100,
    max: 599,
    expected: 'expected an HTTP status from 100 to 599',
  }),
  checks: custom(parseChecks, [] as HttpCheck[], { multiline: true, maxLength: 65_536 }, false),
  consecutive: integer({ default: '3', min: 1, max: 100 }),
  'stable-for': duration({ default: '15s', min: 0, max: 3_600_000 }),
  'single-writer': oneOf(['auto', 'true', 'false'], { default: 'auto' }),
  timeout: duration({ default: '3m', min: 1000, max: 3_600_000 }),
  'create-users': custom(parseUsers, [] as ApiUser[], { multiline: true, secret: true }, false),
  'allow-weak-passwords': bool({ default: 'false' }),
  'register-path': text({
    default: '/api/v1/auth/register',
    pattern: URL_PATH,
    expected: 'expected a path starting with /',
  }),
  'token-path': text({
    default: '/api/v1/auth/token',
    pattern: URL_PATH,
    expected: 'expected a path starting with /',
  }),
  'register-format': oneOf(['json', 'form'], { default: 'json' }),
  'token-format': oneOf(['form', 'json'], { default: 'form' }),
  'username-field': text({ default: 'username', pattern: FIELD, expected: FIELD_EXPECTED }),
  'password-field': text({ default: 'password', pattern: FIELD, expected: FIELD_EXPECTED }),
  'token-field': text({ default: 'access_token', pattern: FIELD, expected: FIELD_EXPECTED }),
  'record-verified': bool({ default: 'true' }),
  'aws-region': region(),
}

/** The outputs action.yml declares; ctx.output takes no other name. */
export const outputs = ['url', 'verified-task-definition', 'seconds-to-verified', 'users', 'report'] as const
export type Output = (typeof outputs)[number]
