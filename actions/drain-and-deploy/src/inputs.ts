import { duration, integer, keyValues, oneOf, text } from '@ecs-lockstep/core'

export const inputs = {
  cluster: text({ required: true }),
  service: text({ required: true }),
  'task-definition': text(),
  'container-name': text(),
  image: text({
    pattern: /^\S+$/,
    expected: 'expected an image reference such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:tag',
  }),
  'environment-variables': keyValues(),
  'desired-count': integer({ default: '1', min: 0, max: 1000 }),
  strategy: oneOf(['drain', 'rolling'], { default: 'drain' }),
  'single-writer': oneOf(['auto', 'true', 'false'], { default: 'auto' }),
  'wait-for': oneOf(['healthy', 'running', 'none'], { default: 'healthy' }),
  'stable-for': duration({ default: '30s', min: 0, max: 3_600_000 }),
  timeout: duration({ default: '15m', min: 10_000, max: 6 * 3_600_000 }),
  'if-deployment-in-progress': oneOf(['wait', 'fail'], { default: 'wait' }),
  'aws-region': text(),
}

/** The outputs action.yml declares; ctx.output takes no other name. */
export const outputs = [
  'task-definition-arn',
  'previous-task-definition-arn',
  'deployment-id',
  'task-arns',
  'drain-seconds',
  'start-seconds',
  'downtime-seconds',
] as const
export type Output = (typeof outputs)[number]
