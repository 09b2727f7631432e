import { custom, duration, integer, keyValues, list, path, port, text } from '@ecs-lockstep/core'
import { parse as parseShell } from 'shell-quote'
import { imageReferenceProblem, URL_PATH } from '@ecs-lockstep/core/references'

/** docker run arguments, split as a shell would (quotes, escapes) but never run by one. */
function parseRunArgs(raw: string): { value: string[] } | { problems: string[] } {
  // Variables stay literal: the runner has already expanded ${{ }} expressions.
  const tokens = parseShell(raw, (name) => `$${name}`)
  return tokens.every((token) => typeof token === 'string')
    ? { value: tokens }
    : { problems: ['expected docker run arguments only (no shell operators such as |, && or ;)'] }
}

export const inputs = {
  context: path({ default: '.', kind: 'directory' }),
  dockerfile: path({ kind: 'file' }),
  image: text({
    check: (value) =>
      value.includes('@')
        ? 'expected a name and tag to build, without a digest'
        : imageReferenceProblem(value),
  }),
  platform: text({
    default: 'linux/amd64',
    pattern: /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/,
    expected: 'expected os/arch such as linux/amd64 or linux/arm64',
  }),
  'build-args': keyValues(),
  env: keyValues(),
  'env-secret-keys': list({ item: /^[A-Za-z_][A-Za-z0-9_.-]*$/, expected: 'expected variable names' }),
  port: port({ default: '8000' }),
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
  'health-timeout': duration({ default: '60s', min: 1000 }),
  'stable-for': duration({ default: '10s' }),
  'run-args': custom(parseRunArgs, [] as string[], { multiline: true, maxLength: 8192 }),
}

/** The outputs action.yml declares; ctx.output takes no other name. */
export const outputs = ['image', 'image-id', 'seconds-to-healthy'] as const
export type Output = (typeof outputs)[number]
