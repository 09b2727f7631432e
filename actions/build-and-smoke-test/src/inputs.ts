import { duration, integer, keyValues, list, port, text } from '@ecs-lockstep/core'

/** A local image reference: optional registry host, lowercase path, optional tag. */
export const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?$/

export const inputs = {
  context: text({ default: '.' }),
  dockerfile: text(),
  image: text({
    pattern: IMAGE_REFERENCE,
    expected: 'expected an image name such as my-api or my-api:test (lowercase)',
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
    pattern: /^\/\S*$/,
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
  'run-args': text(),
}

/** The outputs action.yml declares; ctx.output takes no other name. */
export const outputs = ['image', 'image-id', 'seconds-to-healthy'] as const
export type Output = (typeof outputs)[number]
