import type { AwsError } from '../errors.ts'

/**
 * awsQuery (STS, ELBv2): form-encoded requests whose lists are spelled `Names.member.1=...` and
 * maps `Attributes.member.1.Key=...`; XML replies wrapped in `<OpResponse><OpResult>`.
 */
export function parseQueryParams(body: string): {
  action: string
  version: string
  params: Record<string, unknown>
} {
  const form = new URLSearchParams(body)
  const params: Record<string, unknown> = {}
  for (const [key, value] of form) {
    if (key === 'Action' || key === 'Version') continue
    setPath(params, key.split('.'), value)
  }
  return {
    action: form.get('Action') ?? '',
    version: form.get('Version') ?? '',
    params: collapseMembers(params) as Record<string, unknown>,
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: string): void {
  let node = target
  for (const part of path.slice(0, -1)) {
    node[part] ??= {}
    node = node[part] as Record<string, unknown>
  }
  node[path[path.length - 1] as string] = value
}

/** Turns `{member: {1: a, 2: b}}` into `[a, b]`, recursively. */
function collapseMembers(node: unknown): unknown {
  if (typeof node !== 'object' || node === null) return node
  const record = node as Record<string, unknown>
  if ('member' in record && Object.keys(record).length === 1) {
    const members = record.member as Record<string, unknown>
    return Object.keys(members)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => collapseMembers(members[k]))
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, collapseMembers(v)]))
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** Serialises a value the way AWS query services do: lists as `<member>`, dates as ISO 8601. */
export function toXml(name: string, value: unknown): string {
  if (value === undefined || value === null) return ''
  if (Array.isArray(value)) return `<${name}>${value.map((item) => toXml('member', item)).join('')}</${name}>`
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => toXml(k, v))
      .join('')
    return `<${name}>${inner}</${name}>`
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`
}

export function encodeQueryResponse(
  action: string,
  xmlns: string,
  result: unknown,
  requestId: string,
): string {
  const body = result === undefined ? '' : toXml(`${action}Result`, result)
  return `<${action}Response xmlns="${xmlns}">${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
}

export function encodeQueryError(error: AwsError, requestId: string): string {
  return `<ErrorResponse><Error><Type>${error.fault}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
}
