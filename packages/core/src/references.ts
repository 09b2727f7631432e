/**
 * The grammars of the names the actions pass to Docker and AWS, checked before any call: a value
 * that does not fit is an input error naming the input, never something AWS or Docker is left to
 * refuse (or worse, accept). Each function returns the problem ("expected …"), or undefined.
 */

// Docker's reference grammar (distribution/reference): [domain/]path[:tag][@digest].
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]{1,5})?`
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const TAG = '[\\w][\\w.-]{0,127}'
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}'
const REFERENCE = new RegExp(
  `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
)

/** ECS's limit for a container definition's `image`, and Docker's for a repository name. */
const MAX_IMAGE = 255

export const IMAGE_EXPECTED =
  'expected an image reference [registry/]repository[:tag][@sha256:digest] with a lowercase repository, at most 255 characters, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:3f2c1d9'

export function imageReferenceProblem(value: string): string | undefined {
  if (value.length > MAX_IMAGE) return `it is ${value.length} characters long: ${IMAGE_EXPECTED}`
  const match = REFERENCE.exec(value)
  if (!match) return IMAGE_EXPECTED
  const [, domain, path] = match
  // A first component without . or : is a path component, not a host, unless it is localhost.
  if (domain && !/[.:[]/.test(domain) && domain !== 'localhost' && domain !== domain.toLowerCase())
    return IMAGE_EXPECTED
  if ((path ?? '').length > MAX_IMAGE) return IMAGE_EXPECTED
  return undefined
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/
const PARTITION_REGION_ACCOUNT = 'arn:aws(?:-[a-z]+)*:ecs:[a-z]{2}(?:-[a-z]+)+-\\d:\\d{12}'
const CLUSTER_ARN = new RegExp(`^${PARTITION_REGION_ACCOUNT}:cluster/[A-Za-z0-9_-]{1,255}$`)
// Old ARNs have no cluster in the path: service/name; new ones: service/cluster/name.
const SERVICE_ARN = new RegExp(
  `^${PARTITION_REGION_ACCOUNT}:service/(?:[A-Za-z0-9_-]{1,255}/)?[A-Za-z0-9_-]{1,255}$`,
)
const TASK_DEFINITION_ARN = new RegExp(
  `^${PARTITION_REGION_ACCOUNT}:task-definition/[A-Za-z0-9_-]{1,255}:\\d{1,10}$`,
)
const FAMILY_REVISION = /^[A-Za-z0-9_-]{1,255}(?::\d{1,10})?$/

export function clusterProblem(value: string): string | undefined {
  return NAME.test(value) || CLUSTER_ARN.test(value)
    ? undefined
    : 'expected a cluster name (1 to 255 letters, digits, - and _) or a cluster ARN'
}

export function serviceProblem(value: string): string | undefined {
  return NAME.test(value) || SERVICE_ARN.test(value)
    ? undefined
    : 'expected a service name (1 to 255 letters, digits, - and _) or a service ARN'
}

export function containerNameProblem(value: string): string | undefined {
  return NAME.test(value) ? undefined : 'expected a container name (1 to 255 letters, digits, - and _)'
}

/** An existing revision: `family`, `family:revision` or its ARN. */
export function revisionProblem(value: string, withoutRevision = true): string | undefined {
  const ok =
    TASK_DEFINITION_ARN.test(value) ||
    (FAMILY_REVISION.test(value) && (withoutRevision || value.includes(':')))
  return ok
    ? undefined
    : `expected ${withoutRevision ? 'family, ' : ''}family:revision or a task definition ARN`
}

const SECRET_ARN = new RegExp(
  // A Secrets Manager secret, optionally with ECS's :json-key:version-stage:version-id suffix.
  '^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\\d:\\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}(?::[^:\\s]*){0,3}$' +
    // An SSM Parameter Store parameter.
    '|^arn:aws(?:-[a-z]+)*:ssm:[a-z]{2}(?:-[a-z]+)+-\\d:\\d{12}:parameter/[A-Za-z0-9/_.-]{1,2048}$',
)

/** Where an ECS `secrets` entry comes from: the ARN of a Secrets Manager secret or an SSM parameter. */
export function secretArnProblem(value: string): string | undefined {
  return SECRET_ARN.test(value)
    ? undefined
    : 'expected the ARN of a Secrets Manager secret (arn:aws:secretsmanager:…:secret:name) or an SSM parameter (arn:aws:ssm:…:parameter/name)'
}

/** A path a service serves, as the checks ask for it: printable ASCII, starting with /. */
export const URL_PATH = /^\/[\x21-\x7e]{0,2047}$/

/** A username the API users step registers: the character set most APIs accept. */
export const USERNAME = /^[A-Za-z0-9_.@-]{3,64}$/
export const USERNAME_EXPECTED = '3 to 64 letters, digits, _ . @ -'
