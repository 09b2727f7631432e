import { readFileSync } from 'node:fs'
import { pathProblem } from '@ecs-lockstep/core/inputs'
import { containerNameProblem, imageReferenceProblem } from '@ecs-lockstep/core/references'

/** ECS refuses a task definition over 64 KiB, and more than 10 containers in one. */
export const MAX_TASK_DEFINITION_BYTES = 65_536
export const MAX_CONTAINERS = 10

const FAMILY = /^[A-Za-z0-9_-]{1,255}$/

/** A task definition JSON: as written by hand, or as `aws ecs describe-task-definition` prints it. */
export interface TaskDefinitionJson {
  taskDefinition?: Record<string, unknown>
  tags?: unknown[]
  [field: string]: unknown
}

/**
 * Why the file is not a task definition ECS could register (undefined when it is): it must exist in
 * the workspace, be at most 64 KiB of JSON, and hold 1 to 10 containers, each with a valid name and
 * image. Read without the AWS SDK: inputs are checked before it loads.
 */
export function taskDefinitionFileProblem(path: string): string | undefined {
  const missing = pathProblem(path, 'file')
  if (missing)
    return missing.replace(
      /expected a file/,
      'expected a task definition JSON file, a family, family:revision or an ARN',
    )
  const text = readFileSync(path)
  if (text.length > MAX_TASK_DEFINITION_BYTES) {
    return `the file is ${text.length} bytes: expected a task definition of at most ${MAX_TASK_DEFINITION_BYTES} bytes (ECS's limit)`
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text.toString('utf8'))
  } catch (error) {
    return `the file is not JSON (${(error as Error).message.slice(0, 120)}): expected an ECS task definition`
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return 'expected a JSON object holding an ECS task definition'
  const wrapped = parsed as TaskDefinitionJson
  const definition = (wrapped.taskDefinition ?? wrapped) as Record<string, unknown>
  const containers = definition.containerDefinitions
  if (!Array.isArray(containers) || containers.length === 0) {
    return 'the file has no containerDefinitions: expected an ECS task definition'
  }
  if (containers.length > MAX_CONTAINERS) {
    return `the file has ${containers.length} containers: expected at most ${MAX_CONTAINERS} (ECS's limit)`
  }
  if (
    definition.family !== undefined &&
    (typeof definition.family !== 'string' || !FAMILY.test(definition.family))
  ) {
    return 'its family is not 1 to 255 letters, digits, - and _: expected an ECS task definition'
  }
  for (const [index, container] of containers.entries()) {
    const c = (container ?? {}) as Record<string, unknown>
    const name = typeof c.name === 'string' ? c.name : ''
    const nameProblem = containerNameProblem(name)
    if (nameProblem) return `container ${index + 1} has no valid name: ${nameProblem}`
    const image = typeof c.image === 'string' ? c.image : ''
    const imageProblem = imageReferenceProblem(image)
    if (imageProblem) return `container ${name}'s image: ${imageProblem}`
  }
  return undefined
}
