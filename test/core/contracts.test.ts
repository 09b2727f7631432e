import { describe, expect, it } from '@jest/globals'
import * as ecs from '@aws-sdk/client-ecs'
import {
  READ_ONLY_FIELDS as CORE_READ_ONLY,
  failureThreshold as coreThreshold,
} from '@ecs-lockstep/ecs-deploy'
import { READ_ONLY_FIELDS as LOCAL_READ_ONLY } from '../../packages/ecs-local/src/services/ecs.ts'
import { failureThreshold as localThreshold } from '../../packages/ecs-local/src/ecs/deployments.ts'

/**
 * The contracts that exist twice on purpose (the client and the emulator each stand alone) must
 * stay in step, with each other and with AWS's own model as the SDK ships it.
 */

/** Member names of a structure in the SDK's schema (`[3, namespace, name, traits, members, ...]`). */
function members(schema: unknown): string[] {
  return [...((schema as unknown[])[4] as string[])].sort()
}

describe('contracts kept in two places', () => {
  it('the read-only task definition fields are what DescribeTaskDefinition returns and RegisterTaskDefinition does not take', () => {
    const sdk = ecs as unknown as Record<string, unknown>
    const described = members(sdk.TaskDefinition$)
    const registrable = members(sdk.RegisterTaskDefinitionRequest$)
    const readOnly = described.filter((field) => !registrable.includes(field))
    expect(readOnly.length).toBeGreaterThan(5)
    expect([...CORE_READ_ONLY].sort()).toEqual(readOnly)
    expect([...LOCAL_READ_ONLY].sort()).toEqual(readOnly)
  })

  it("the circuit breaker's failure threshold is the same in the deploy engine and ecs-local", () => {
    const counts = Array.from({ length: 1001 }, (_, n) => n)
    expect(counts.map(coreThreshold)).toEqual(counts.map(localThreshold))
    // ECS's documented rule: half the desired count, at least 3, at most 200.
    expect([0, 1, 6, 7, 100, 399, 400, 401, 1000].map(coreThreshold)).toEqual([
      3, 3, 3, 4, 50, 200, 200, 200, 200,
    ])
  })
})
