import type { AwsError } from '../errors.ts'

/** awsJson1_1: the body is JSON, dates are epoch seconds, errors carry their shape in `__type`. */
export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1'

/** Services answer with Date objects; this protocol spells them as epoch seconds. */
function withEpochDates(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000
  if (Array.isArray(value)) return value.map(withEpochDates)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).flatMap(([k, v]) => (v === undefined ? [] : [[k, withEpochDates(v)]])),
    )
  }
  return value
}

export function encodeJson(value: unknown): string {
  return JSON.stringify(withEpochDates(value ?? {}))
}

export function encodeJsonError(error: AwsError): string {
  return JSON.stringify({ __type: error.code, message: error.message })
}
