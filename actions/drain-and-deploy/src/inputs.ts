import { duration, integer, keyValues, oneOf, region, text } from '@ecs-lockstep/core'
import {
  clusterProblem,
  containerNameProblem,
  imageReferenceProblem,
  revisionProblem,
  secretArnProblem,
  serviceProblem,
} from '@ecs-lockstep/core/references'
import { taskDefinitionFileProblem } from '@ecs-lockstep/ecs-deploy/checks'

export const inputs = {
  cluster: text({ required: true, check: clusterProblem }),
  service: text({ required: true, check: serviceProblem }),
  'task-definition': text({
    check: (value) =>
      /\.json$|^[^:]*\//.test(value) ? taskDefinitionFileProblem(value) : revisionProblem(value),
  }),
  'container-name': text({ check: containerNameProblem }),
  image: text({ check: imageReferenceProblem }),
  'environment-variables': keyValues({ explicitEmpty: true }),
  secrets: keyValues({ value: secretArnProblem }),
  'desired-count': integer({ default: '1', min: 0, max: 1000 }),
  strategy: oneOf(['drain', 'rolling'], { default: 'drain' }),
  'single-writer': oneOf(['auto', 'true', 'false'], { default: 'auto' }),
  'wait-for': oneOf(['healthy', 'running', 'none'], { default: 'healthy' }),
  'stable-for': duration({ default: '30s', min: 0, max: 3_600_000 }),
  'drain-connections-for': duration({ min: 0, max: 3_600_000 }),
  timeout: duration({ default: '15m', min: 10_000, max: 6 * 3_600_000 }),
  'if-deployment-in-progress': oneOf(['wait', 'fail'], { default: 'wait' }),
  'aws-region': region(),
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
