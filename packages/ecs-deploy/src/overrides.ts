import type { ContainerOverride, NetworkConfiguration } from '@aws-sdk/client-ecs'
import * as z from 'zod/mini'
import { shown } from '@ecs-lockstep/core/inputs'

// JSON inputs in the shapes ECS's RunTask takes (what `aws ecs run-task --overrides` and
// `--network-configuration` take too), checked field by field so that a typo is an input error
// and not an InvalidParameterException after the service was already stopped.

const NAME = /^[A-Za-z0-9_-]{1,255}$/
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/

const containerOverride = z.strictObject({
  name: z.string().check(z.regex(NAME, 'expected a container name of the task definition')),
  command: z.optional(z.array(z.string().check(z.maxLength(4096))).check(z.maxLength(256))),
  environment: z.optional(
    z
      .array(
        z.strictObject({
          name: z
            .string()
            .check(z.regex(ENV_NAME, 'expected letters, digits and _, not starting with a digit')),
          value: z.string(),
        }),
      )
      .check(z.maxLength(1000)),
  ),
  cpu: z.optional(z.int().check(z.minimum(0))),
  memory: z.optional(z.int().check(z.minimum(6))),
  memoryReservation: z.optional(z.int().check(z.minimum(6))),
})

const networkConfiguration = z.strictObject({
  awsvpcConfiguration: z.strictObject({
    subnets: z
      .array(z.string().check(z.regex(/^subnet-[0-9a-z]{1,40}$/, 'expected subnet-…')))
      .check(z.minLength(1), z.maxLength(16)),
    securityGroups: z.optional(
      z.array(z.string().check(z.regex(/^sg-[0-9a-z]{1,40}$/, 'expected sg-…'))).check(z.maxLength(5)),
    ),
    assignPublicIp: z.optional(z.enum(['ENABLED', 'DISABLED'])),
  }),
})

function parseJson(raw: string, expected: string): { value: unknown } | { problems: string[] } {
  try {
    return { value: JSON.parse(raw) }
  } catch (error) {
    // JSON.parse's message quotes the text, which may hold a secret: only the position is kept.
    const at = /position (\d+)/.exec((error as Error).message)?.[1]
    return { problems: [`it is not valid JSON${at ? ` (at character ${at})` : ''}: expected ${expected}`] }
  }
}

function problemsOf(error: z.core.$ZodError, expected: string): string[] {
  return error.issues.slice(0, 5).map((issue) => {
    const at = issue.path.length > 0 ? `at ${issue.path.join('.')}: ` : ''
    const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.map((k) => shown(k)).join(', ')})` : ''
    return `${at}${issue.message}${keys}; expected ${expected}`
  })
}

export const OVERRIDES_EXPECTED =
  'a JSON list of ECS container overrides, e.g. [{"name":"app","command":["migrate"],"environment":[{"name":"K","value":"v"}]}]'

export function parseContainerOverrides(
  raw: string,
): { value: ContainerOverride[] } | { problems: string[] } {
  const json = parseJson(raw, OVERRIDES_EXPECTED)
  if (!('value' in json)) return json
  const parsed = z.array(containerOverride).check(z.maxLength(100)).safeParse(json.value)
  if (!parsed.success) return { problems: problemsOf(parsed.error, OVERRIDES_EXPECTED) }
  const names = parsed.data.map((o) => o.name)
  const twice = names.find((name, i) => names.indexOf(name) !== i)
  if (twice)
    return { problems: [`container ${shown(twice)} is overridden twice: expected one entry per container`] }
  return { value: parsed.data }
}

export const NETWORK_EXPECTED =
  'ECS network configuration JSON, e.g. {"awsvpcConfiguration":{"subnets":["subnet-…"],"securityGroups":["sg-…"],"assignPublicIp":"DISABLED"}}'

export function parseNetworkConfiguration(
  raw: string,
): { value: NetworkConfiguration } | { problems: string[] } {
  const json = parseJson(raw, NETWORK_EXPECTED)
  if (!('value' in json)) return json
  const parsed = networkConfiguration.safeParse(json.value)
  return parsed.success ? { value: parsed.data } : { problems: problemsOf(parsed.error, NETWORK_EXPECTED) }
}
