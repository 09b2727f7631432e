import { duration, integer, oneOf, region, text } from '@ecs-lockstep/core'
import { clusterProblem, revisionProblem, serviceProblem } from '@ecs-lockstep/core/references'

export const inputs = {
  cluster: text({ required: true, check: clusterProblem }),
  service: text({ required: true, check: serviceProblem }),
  to: text({ check: (value) => revisionProblem(value, false) }),
  'desired-count': integer({ min: 0, max: 1000 }),
  strategy: oneOf(['drain', 'rolling'], { default: 'drain' }),
  'single-writer': oneOf(['auto', 'true', 'false'], { default: 'auto' }),
  'wait-for': oneOf(['healthy', 'running', 'none'], { default: 'healthy' }),
  'stable-for': duration({ default: '30s', min: 0, max: 3_600_000 }),
  'drain-connections-for': duration({ min: 0, max: 3_600_000 }),
  timeout: duration({ default: '15m', min: 10_000, max: 6 * 3_600_000 }),
  reason: text({ maxLength: 1000 }),
  'aws-region': region(),
}

/** The outputs action.yml declares; ctx.output takes no other name. */
export const outputs = ['rolled-back-to', 'rolled-back-from', 'deployment-id'] as const
export type Output = (typeof outputs)[number]
