import {
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  type ContainerDefinition,
  type RegisterTaskDefinitionCommandInput,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs'
import { readFile } from 'node:fs/promises'
import { ActionError } from '@ecs-lockstep/core/errors'
import { RequestError } from '@ecs-lockstep/core/inputs'
import { aws, awsErrorName } from '@ecs-lockstep/core/aws/errors'
import type { AwsClients } from './clients.ts'

/** Fields DescribeTaskDefinition returns that RegisterTaskDefinition refuses. */
export const READ_ONLY_FIELDS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
  'deleteRequestedAt',
] as const

export type TaskDefinitionInput = RegisterTaskDefinitionCommandInput

/** What the deploy will register: a definition and where it came from, for the plan. */
export interface RenderedTaskDefinition {
  input: TaskDefinitionInput
  source: string
  /** Set when the definition is an existing revision used as it is (nothing to register). */
  existingArn?: string
}

export function shortRevision(arn: string | undefined): string {
  return arn?.split('/').pop() ?? '(none)'
}

/** Removes what AWS adds to a registered revision, keeping every value the user wrote (empty ones too). */
export function toRegisterInput(definition: TaskDefinition, tags?: Tag[]): TaskDefinitionInput {
  const copy: Record<string, unknown> = { ...definition }
  for (const field of READ_ONLY_FIELDS) Reflect.deleteProperty(copy, field)
  if (tags && tags.length > 0) copy.tags = tags
  return copy as unknown as TaskDefinitionInput
}

async function describe(
  clients: AwsClients,
  reference: string,
): Promise<{ definition: TaskDefinition; tags: Tag[] }> {
  const reply = await aws(`describing task definition ${reference}`, () =>
    clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: reference, include: ['TAGS'] })),
  )
  if (!reply.taskDefinition) throw new ActionError(`ECS returned no task definition for ${reference}.`)
  return { definition: reply.taskDefinition, tags: reply.tags ?? [] }
}

/** A path to a JSON file, as written by hand or by `aws ecs describe-task-definition`. */
async function readTaskDefinitionFile(path: string): Promise<TaskDefinitionInput> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'the file does not exist'
        : (error as Error).message
    throw new RequestError(
      'taskDefinition',
      path,
      `${reason}: expected a task definition JSON file, a family, family:revision or an ARN`,
    )
  }
  const wrapped = parsed as { taskDefinition?: TaskDefinition; tags?: Tag[] }
  const definition = (wrapped.taskDefinition ?? parsed) as TaskDefinition
  if (typeof definition !== 'object' || !definition || !Array.isArray(definition.containerDefinitions)) {
    throw new RequestError(
      'taskDefinition',
      path,
      'the file has no containerDefinitions: expected an ECS task definition',
    )
  }
  return toRegisterInput(definition, wrapped.tags)
}

export function looksLikeFile(reference: string): boolean {
  return reference.endsWith('.json') || (reference.includes('/') && !reference.startsWith('arn:'))
}

/**
 * The definition to deploy: from a file, from an existing revision (family, family:revision, ARN),
 * or the service's current one; then the image and environment changes the step asks for.
 */
export async function renderTaskDefinition(
  clients: AwsClients,
  options: {
    reference: string | undefined
    currentArn: string
    containerName: string | undefined
    image: string | undefined
    environment: Record<string, string>
    /** ECS `secrets` of the container: name → valueFrom (a Secrets Manager or SSM ARN). */
    secrets?: Record<string, string>
  },
): Promise<RenderedTaskDefinition> {
  let input: TaskDefinitionInput
  let source: string
  let existingArn: string | undefined
  if (options.reference && looksLikeFile(options.reference)) {
    input = await readTaskDefinitionFile(options.reference)
    source = `file ${options.reference}`
  } else {
    const reference = options.reference ?? options.currentArn
    const { definition, tags } = await describe(clients, reference).catch((error: unknown) => {
      // A revision the step named that ECS does not know is the input's fault.
      const name = awsErrorName((error as { cause?: unknown }).cause)
      if (options.reference && (name === 'ClientException' || name === 'InvalidParameterException')) {
        throw new RequestError(
          'taskDefinition',
          options.reference,
          `ECS knows no such task definition in ${clients.region}: expected an existing family, family:revision or ARN, or a JSON file`,
        )
      }
      throw error
    })
    if (definition.status === 'INACTIVE') {
      throw new ActionError(
        `Task definition ${shortRevision(definition.taskDefinitionArn)} is INACTIVE (deregistered) and cannot be deployed.`,
        {
          hint: 'Register it again from its JSON, or deploy another revision.',
        },
      )
    }
    input = toRegisterInput(definition, tags)
    existingArn = definition.taskDefinitionArn
    source = options.reference
      ? `revision ${shortRevision(existingArn)}`
      : `the service's current revision ${shortRevision(existingArn)}`
  }

  const secrets = options.secrets ?? {}
  const changes =
    Object.keys(options.environment).length > 0 ||
    Object.keys(secrets).length > 0 ||
    options.image !== undefined
  if (!changes) return { input, source, ...(existingArn ? { existingArn } : {}) }

  const containers = input.containerDefinitions ?? []
  const name = options.containerName ?? (containers.length === 1 ? containers[0]?.name : undefined)
  if (!name) {
    throw new RequestError(
      'containerName',
      '',
      `the task definition has ${containers.length} containers (${containers.map((c) => c.name).join(', ')}): expected the name of the one to change`,
    )
  }
  const container = containers.find((c) => c.name === name)
  if (!container) {
    throw new RequestError(
      'containerName',
      name,
      `no such container in the task definition: expected one of ${containers.map((c) => c.name).join(', ')}`,
    )
  }
  const updated: ContainerDefinition = { ...container }
  if (options.image) updated.image = options.image
  if (Object.keys(options.environment).length > 0) {
    const merged = new Map((container.environment ?? []).map((e) => [e.name ?? '', e.value ?? '']))
    for (const [key, value] of Object.entries(options.environment)) merged.set(key, value)
    updated.environment = [...merged].map(([key, value]) => ({ name: key, value }))
  }
  if (Object.keys(secrets).length > 0) {
    const merged = new Map((container.secrets ?? []).map((e) => [e.name ?? '', e.valueFrom ?? '']))
    for (const [key, valueFrom] of Object.entries(secrets)) merged.set(key, valueFrom)
    updated.secrets = [...merged].map(([key, valueFrom]) => ({ name: key, valueFrom }))
    // A name cannot be both: ECS refuses a variable set in environment and secrets.
    updated.environment = (updated.environment ?? []).filter((e) => !(e.name && e.name in secrets))
  }
  return {
    input: { ...input, containerDefinitions: containers.map((c) => (c.name === name ? updated : c)) },
    source: `${source}, with ${[
      options.image ? `${name}'s image` : '',
      Object.keys(options.environment).length
        ? `${Object.keys(options.environment).length} environment variable(s)`
        : '',
      Object.keys(secrets).length ? `${Object.keys(secrets).length} secret(s)` : '',
    ]
      .filter(Boolean)
      .join(', ')} changed`,
  }
}

/** Registers the rendered definition (or returns the existing revision used as it is). */
export async function registerTaskDefinition(
  clients: AwsClients,
  rendered: RenderedTaskDefinition,
): Promise<TaskDefinition> {
  if (rendered.existingArn) return (await describe(clients, rendered.existingArn)).definition
  const reply = await aws(`registering a new revision of ${rendered.input.family}`, () =>
    clients.ecs.send(new RegisterTaskDefinitionCommand(rendered.input)),
  )
  if (!reply.taskDefinition) throw new ActionError('ECS registered the task definition but returned none.')
  return reply.taskDefinition
}

/** The EFS volumes a definition mounts: what makes a service single-writer. */
export function efsVolumes(definition: { volumes?: TaskDefinition['volumes'] }): string[] {
  return (definition.volumes ?? [])
    .filter((v) => v.efsVolumeConfiguration)
    .map((v) => `${v.name} (${v.efsVolumeConfiguration?.fileSystemId})`)
}

/** The longest stopTimeout of its containers (ECS default 30 s): how long a stop may take after SIGTERM. */
export function stopTimeoutSeconds(definition: { containerDefinitions?: ContainerDefinition[] }): number {
  const timeouts = (definition.containerDefinitions ?? []).map((c) => c.stopTimeout ?? 30)
  return timeouts.length > 0 ? Math.max(...timeouts) : 30
}

/** True when an essential container defines a health check, so task health means something. */
export function hasHealthCheck(definition: { containerDefinitions?: ContainerDefinition[] }): boolean {
  return (definition.containerDefinitions ?? []).some(
    (c) => c.essential !== false && c.healthCheck?.command?.length,
  )
}
