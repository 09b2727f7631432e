import { duration, integer, oneOf, text } from '@ecs-lockstep/core'

export const inputs = {
  cluster: text({ required: true }),
  service: text({ required: true }),
  to: text({
    pattern: /^(arn:\S+|[A-Za-z0-9_-]+:\d+)$/,
    expected: 'expected family:revision or a task definition ARN',
  }),
  'desired-count': integer({ min: 0, max: 1000 }),
  strategy: oneOf(['drain', 'rolling'], { default: 'drain' }),
  'single-writer': oneOf(['auto', 'true', 'false'], { default: 'auto' }),
  'wait-for': oneOf(['healthy', 'running', 'none'], { default: 'healthy' }),
  'stable-for': duration({ default: '30s', min: 0, max: 3_600_000 }),
  timeout: duration({ default: '15m', min: 10_000, max: 6 * 3_600_000 }),
  reason: text(),
  'aws-region': text(),
}

/** The outputs action.yml declares; ctx.output takes no other name. */
export const outputs = ['rolled-back-to', 'rolled-back-from', 'deployment-id'] as const
export type Output = (typeof outputs)[number]
