import { ActionError, errorMessage } from '../errors.ts'

interface AwsErrorShape {
  name?: string
  code?: string
  message?: string
  $metadata?: { httpStatusCode?: number; requestId?: string }
}

const CREDENTIALS_HINT =
  'Configure credentials before this step, e.g. aws-actions/configure-aws-credentials with role-to-assume, and give the job `permissions: id-token: write`.'

/**
 * Turns an AWS SDK error into one a person can act on: what failed, AWS's own words, and the next
 * step. `doing` finishes "while …" (e.g. "looking up ECR repository wwhd-dev-backend").
 */
export function explainAwsError(error: unknown, doing: string): ActionError {
  if (error instanceof ActionError) return error
  const err = (error ?? {}) as AwsErrorShape
  const name = err.name ?? err.code ?? 'Error'
  const said = err.message ?? errorMessage(error)
  const requestId = err.$metadata?.requestId ? ` (request id ${err.$metadata.requestId})` : ''
  const message = `AWS refused while ${doing}: ${name}: ${said}${requestId}`
  switch (name) {
    case 'CredentialsProviderError':
      return new ActionError(`No AWS credentials were found while ${doing}.`, {
        hint: CREDENTIALS_HINT,
        cause: error,
      })
    case 'ExpiredToken':
    case 'ExpiredTokenException':
      return new ActionError(`The AWS credentials have expired (${name}) while ${doing}.`, {
        hint: 'Re-run aws-actions/configure-aws-credentials closer to this step, or raise its role-duration-seconds to cover the whole deploy.',
        cause: error,
      })
    case 'UnrecognizedClientException':
    case 'InvalidClientTokenId':
    case 'SignatureDoesNotMatch':
      return new ActionError(`The AWS credentials were rejected (${name}) while ${doing}.`, {
        hint: `Check the access key, or the role the job assumes. ${CREDENTIALS_HINT}`,
        cause: error,
      })
    case 'AccessDenied':
    case 'AccessDeniedException':
      return new ActionError(message, {
        hint: 'Grant the IAM action named above to the role this job runs as (see the README of this action for the full policy).',
        cause: error,
      })
    case 'ThrottlingException':
    case 'Throttling':
    case 'TooManyRequestsException':
      return new ActionError(message, {
        hint: 'AWS kept answering "Rate exceeded" after every retry. Other tools are calling the same API heavily; re-run the job.',
        cause: error,
      })
    default:
      if (isNetworkError(error)) {
        const endpoint = process.env.AWS_ENDPOINT_URL
          ? ` (AWS_ENDPOINT_URL=${process.env.AWS_ENDPOINT_URL})`
          : ''
        return new ActionError(`Could not reach AWS${endpoint} while ${doing}: ${said}`, {
          hint: 'Check the runner network, proxy settings and, for a local endpoint, that it is running.',
          cause: error,
        })
      }
      return new ActionError(message, { cause: error })
  }
}

function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? ''
  return ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE'].includes(code)
}

const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
])

export function isThrottling(error: unknown): boolean {
  return THROTTLED.has(awsErrorName(error) ?? '')
}

/** Throttling, or AWS failing on its side (5xx): worth trying again, never the caller's fault. */
export function isTransient(error: unknown): boolean {
  if (isThrottling(error)) return true
  const status = (error as AwsErrorShape | undefined)?.$metadata?.httpStatusCode ?? 0
  return (
    status >= 500 ||
    ['ServerException', 'InternalFailure', 'ServiceUnavailable', 'InternalServerError'].includes(
      awsErrorName(error) ?? '',
    )
  )
}

/** Transient failures are tried again this many times, 250 ms to 2 s apart (about 12 s in all). */
const TRANSIENT_RETRIES = 8

/**
 * Runs one AWS call and explains its failure. A call still throttled (or failing with a 5xx) after
 * the SDK's own attempts is tried again here, with a growing pause: a deploy is not failed by
 * "Rate exceeded" or a passing "Service Unavailable" alone.
 */
export async function aws<T>(doing: string, call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      if (!isTransient(error) || attempt >= TRANSIENT_RETRIES) throw explainAwsError(error, doing)
      const pause = Math.min(2000, 250 * 2 ** attempt)
      await new Promise((resolve) => setTimeout(resolve, pause / 2 + Math.random() * (pause / 2)))
    }
  }
}

export function awsErrorName(error: unknown): string | undefined {
  const err = error as AwsErrorShape | undefined
  return err?.name ?? err?.code
}
