import { bool, custom, duration, oneOf, region, text } from '@ecs-lockstep/core'
import { clusterProblem, revisionProblem, serviceProblem } from '@ecs-lockstep/core/references'
import { parseContainerOverrides, parseNetworkConfiguration } from '@ecs-lockstep/ecs-deploy/checks'
import type { ContainerOverride, NetworkConfiguration } from '@aws-sdk/client-ecs'

export const inputs = {
  cluster: text({ required: true, check: clusterProblem }),
  'task-definition': text({ required: true, check: (value) => revisionProblem(value) }),
  service: text({ check: serviceProblem }),
  // Overrides may carry environment values that are secrets: never quoted in an error.
  'container-overrides': custom<ContainerOverride[], { maxLength: number; multiline: true }>(
    parseContainerOverrides,
    [],
    { maxLength: 8192, multiline: true },
    false,
  ),
  'launch-type': oneOf(['FARGATE', 'EC2', 'EXTERNAL']),
  'capacity-provider': text({ pattern: /^[A-Za-z0-9_-]{1,255}$/, expected: 'a capacity provider name' }),
  'network-configuration': custom<NetworkConfiguration | undefined, { multiline: true }>(
    parseNetworkConfiguration,
    undefined,
    { multiline: true },
  ),
  'require-drained': oneOf(['auto', 'true', 'false'], { default: 'auto' }),
  wait: bool({ default: 'true' }),
  timeout: duration({ default: '30m', min: 10_000, max: 6 * 3_600_000 }),
  'aws-region': region(),
}

/** The outputs action.yml declares; ctx.output takes no other name. */
export const outputs = ['task-arn', 'exit-code', 'stopped-reason'] as const
export type Output = (typeof outputs)[number]
