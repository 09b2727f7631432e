import { bool, list, region, text } from '@ecs-lockstep/core'
import { imageReferenceProblem } from '@ecs-lockstep/core/references'

// ECR's own grammar, minus names that start with an ECR host: that is a URI pasted by mistake.
export const REPOSITORY_NAME =
  /^(?!\d{12}\.dkr\.ecr\.)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/

export const inputs = {
  image: text({
    required: true,
    // A local name[:tag], or an image ID as `docker images` shows it.
    check: (value) => (/^(sha256:)?[0-9a-f]{12,64}$/.test(value) ? undefined : imageReferenceProblem(value)),
  }),
  repository: text({
    required: true,
    pattern: REPOSITORY_NAME,
    expected:
      'expected an ECR repository name such as wwhd-dev-backend or team/api (lowercase, no registry host, no tag)',
  }),
  tags: list({
    item: IMAGE_TAG,
    expected: 'expected a tag of letters, digits, _ . - (at most 128, not starting with . or -)',
  }),
  registry: text({
    pattern: /^[a-zA-Z0-9.-]+(:\d+)?$/,
    expected:
      'expected a registry host such as 123456789012.dkr.ecr.us-east-1.amazonaws.com (no scheme, no path)',
  }),
  'create-repository': bool({ default: 'false' }),
  'aws-region': region(),
}

/** The outputs action.yml declares; ctx.output takes no other name. */
export const outputs = ['registry', 'image-uri', 'image-uris', 'digest', 'image-uri-digest'] as const
export type Output = (typeof outputs)[number]
