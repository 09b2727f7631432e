import { AwsError } from '../errors.ts'
import type { LogEvent, LogGroupRecord, LogStore, LogStreamRecord } from '../logs/store.ts'
import type { CallContext, ServiceDefinition } from '../service.ts'

const groupNotFound = () =>
  new AwsError('ResourceNotFoundException', 'The specified log group does not exist.')
const streamNotFound = () =>
  new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.')
const invalid = (message: string) => new AwsError('InvalidParameterException', message)

/** Tokens look like CloudWatch's: `f/` or `b/` and 56 digits; ours hold a position in the stream. */
const token = (direction: 'f' | 'b', position: number) => `${direction}/${String(position).padStart(56, '0')}`

function parseToken(value: string): { direction: 'f' | 'b'; position: number } {
  const match = /^([fb])\/(\d+)$/.exec(value)
  if (!match) throw invalid('The specified nextToken is invalid.')
  return { direction: match[1] as 'f' | 'b', position: Number(match[2]) }
}

const opaque = (offset: number) => Buffer.from(`ecs-local:${offset}`).toString('base64')
function fromOpaque(value: string): number {
  const match = /^ecs-local:(\d+)$/.exec(Buffer.from(value, 'base64').toString())
  if (!match) throw invalid('The specified nextToken is invalid.')
  return Number(match[1])
}

/**
 * CloudWatch Logs filter patterns, the term syntax only: `ERROR`, `"exact phrase"`, `ERROR -health`
 * (all terms, none of the minus terms), `?ERROR ?WARN` (any). JSON and space-delimited patterns
 * are not evaluated: they match every event.
 */
export function filterMatcher(pattern: string | undefined): (message: string) => boolean {
  const text = (pattern ?? '').trim()
  if (!text || text.startsWith('{') || text.startsWith('[')) return () => true
  const terms = [...text.matchAll(/([?-]?)(?:"([^"]*)"|(\S+))/g)].map((m) => ({
    kind: m[1] ?? '',
    term: m[2] ?? m[3] ?? '',
  }))
  const any = terms.filter((t) => t.kind === '?').map((t) => t.term)
  const all = terms.filter((t) => t.kind === '').map((t) => t.term)
  const none = terms.filter((t) => t.kind === '-').map((t) => t.term)
  return (message) =>
    all.every((t) => message.includes(t)) &&
    !none.some((t) => message.includes(t)) &&
    (any.length === 0 || any.some((t) => message.includes(t)))
}

export function logsService(logs: LogStore): ServiceDefinition {
  const groupArn = (ctx: CallContext, name: string) =>
    `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${name}`

  function groupName(input: { logGroupName?: string; logGroupIdentifier?: string }): string {
    const id = input.logGroupIdentifier ?? input.logGroupName
    if (!id) throw invalid('Either logGroupName or logGroupIdentifier must be specified.')
    // An ARN identifier: arn:aws:logs:region:account:log-group:NAME[:*]
    const match = /^arn:aws[\w-]*:logs:[\w-]+:\d+:log-group:(.+?)(?::\*)?$/.exec(id)
    return match ? (match[1] as string) : id
  }

  function requireGroup(ctx: CallContext, name: string): LogGroupRecord {
    const group = logs.group(ctx.region, name)
    if (!group) throw groupNotFound()
    return group
  }

  function requireStream(ctx: CallContext, group: string, name: string | undefined): LogStreamRecord {
    requireGroup(ctx, group)
    const stream = name ? logs.stream(ctx.region, group, name) : undefined
    if (!stream) throw streamNotFound()
    return stream
  }

  function presentGroup(ctx: CallContext, group: LogGroupRecord) {
    const storedBytes = logs.streams(ctx.region, group.name).reduce((sum, s) => sum + s.storedBytes, 0)
    return {
      logGroupName: group.name,
      creationTime: group.createdAt,
      ...(group.retentionInDays ? { retentionInDays: group.retentionInDays } : {}),
      metricFilterCount: 0,
      arn: `${groupArn(ctx, group.name)}:*`,
      storedBytes,
      logGroupClass: 'STANDARD',
      logGroupArn: groupArn(ctx, group.name),
    }
  }

  function presentStream(ctx: CallContext, stream: LogStreamRecord) {
    return {
      logStreamName: stream.name,
      creationTime: stream.createdAt,
      ...(stream.firstEventTimestamp !== undefined
        ? { firstEventTimestamp: stream.firstEventTimestamp }
        : {}),
      ...(stream.lastEventTimestamp !== undefined ? { lastEventTimestamp: stream.lastEventTimestamp } : {}),
      ...(stream.lastIngestionTime !== undefined ? { lastIngestionTime: stream.lastIngestionTime } : {}),
      arn: `${groupArn(ctx, stream.group)}:log-stream:${stream.name}`,
      storedBytes: stream.storedBytes,
    }
  }

  function page<T>(items: T[], limit: unknown, nextToken: unknown, defaultLimit: number, max: number) {
    const size = limit === undefined ? defaultLimit : Number(limit)
    if (!Number.isInteger(size) || size < 1 || size > max) throw invalid(`limit must be between 1 and ${max}`)
    const start = typeof nextToken === 'string' && nextToken ? fromOpaque(nextToken) : 0
    const slice = items.slice(start, start + size)
    return { slice, ...(start + size < items.length ? { nextToken: opaque(start + size) } : {}) }
  }

  return {
    name: 'logs',
    protocol: 'json',
    jsonTarget: 'Logs_20140328',
    operations: {
      CreateLogGroup: (input: { logGroupName?: string }, ctx) => {
        const name = input.logGroupName ?? ''
        if (!/^[.\-_/#A-Za-z0-9]{1,512}$/.test(name)) {
          throw invalid(
            `1 validation error detected: Value '${name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
          )
        }
        if (logs.group(ctx.region, name)) {
          throw new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists')
        }
        logs.createGroup(ctx.region, name)
        return {}
      },

      DeleteLogGroup: (input: { logGroupName?: string; logGroupIdentifier?: string }, ctx) => {
        const name = groupName(input)
        requireGroup(ctx, name)
        logs.deleteGroup(ctx.region, name)
        return {}
      },

      PutRetentionPolicy: (
        input: { logGroupName?: string; logGroupIdentifier?: string; retentionInDays?: number },
        ctx,
      ) => {
        requireGroup(ctx, groupName(input)).retentionInDays = input.retentionInDays
        return {}
      },

      DescribeLogGroups: (
        input: { logGroupNamePrefix?: string; limit?: number; nextToken?: string },
        ctx,
      ) => {
        const groups = logs
          .groups(ctx.region)
          .filter((g) => !input.logGroupNamePrefix || g.name.startsWith(input.logGroupNamePrefix))
        const { slice, nextToken } = page(groups, input.limit, input.nextToken, 50, 50)
        return { logGroups: slice.map((g) => presentGroup(ctx, g)), ...(nextToken ? { nextToken } : {}) }
      },

      CreateLogStream: (input: { logGroupName?: string; logStreamName?: string }, ctx) => {
        const group = input.logGroupName ?? ''
        requireGroup(ctx, group)
        const name = input.logStreamName ?? ''
        if (!name || name.includes(':') || name.includes('*')) throw invalid('Invalid log stream name')
        if (logs.stream(ctx.region, group, name)) {
          throw new AwsError('ResourceAlreadyExistsException', 'The specified log stream already exists')
        }
        logs.createStream(ctx.region, group, name)
        return {}
      },

      DescribeLogStreams: (
        input: {
          logGroupName?: string
          logGroupIdentifier?: string
          logStreamNamePrefix?: string
          orderBy?: string
          descending?: boolean
          limit?: number
          nextToken?: string
        },
        ctx,
      ) => {
        const group = groupName(input)
        requireGroup(ctx, group)
        if (input.orderBy === 'LastEventTime' && input.logStreamNamePrefix) {
          throw invalid('Cannot order by LastEventTime with a logStreamNamePrefix.')
        }
        const streams = logs
          .streams(ctx.region, group)
          .filter((s) => !input.logStreamNamePrefix || s.name.startsWith(input.logStreamNamePrefix))
        if (input.orderBy === 'LastEventTime') {
          streams.sort(
            (a, b) => (a.lastEventTimestamp ?? a.createdAt) - (b.lastEventTimestamp ?? b.createdAt),
          )
        }
        if (input.descending) streams.reverse()
        const { slice, nextToken } = page(streams, input.limit, input.nextToken, 50, 50)
        return { logStreams: slice.map((s) => presentStream(ctx, s)), ...(nextToken ? { nextToken } : {}) }
      },

      PutLogEvents: (
        input: {
          logGroupName?: string
          logStreamName?: string
          logEvents?: { timestamp: number; message: string }[]
        },
        ctx,
      ) => {
        const stream = requireStream(ctx, input.logGroupName ?? '', input.logStreamName)
        const events = input.logEvents ?? []
        if (events.length === 0) throw invalid('1 validation error detected: logEvents must not be empty')
        logs.put(ctx.region, stream.group, stream.name, events)
        return { nextSequenceToken: String(Date.now()).padStart(56, '0') }
      },

      GetLogEvents: (
        input: {
          logGroupName?: string
          logGroupIdentifier?: string
          logStreamName?: string
          startTime?: number
          endTime?: number
          nextToken?: string
          limit?: number
          startFromHead?: boolean
        },
        ctx,
      ) => {
        const stream = requireStream(ctx, groupName(input), input.logStreamName)
        const all = logs.eventsOf(ctx.region, stream.group, stream.name)
        const limit = input.limit ?? 10_000
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
          throw invalid('limit must be between 1 and 10000')
        const inWindow = (e: LogEvent) =>
          (input.startTime === undefined || e.timestamp >= input.startTime) &&
          (input.endTime === undefined || e.timestamp < input.endTime)
        const at = input.nextToken
          ? parseToken(input.nextToken)
          : input.startFromHead
            ? { direction: 'f' as const, position: 0 }
            : { direction: 'b' as const, position: all.length }
        const indexes: number[] = []
        if (at.direction === 'f') {
          for (let i = at.position; i < all.length && indexes.length < limit; i += 1)
            if (inWindow(all[i] as LogEvent)) indexes.push(i)
        } else {
          for (let i = Math.min(at.position, all.length) - 1; i >= 0 && indexes.length < limit; i -= 1) {
            if (inWindow(all[i] as LogEvent)) indexes.unshift(i)
          }
        }
        const first = indexes[0]
        const last = indexes[indexes.length - 1]
        // At the end of the stream the forward token stays the same: that is how readers know they are done.
        return {
          events: indexes.map((i) => {
            const e = all[i] as LogEvent
            return { timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime }
          }),
          nextForwardToken: token('f', last === undefined ? at.position : last + 1),
          nextBackwardToken: token('b', first === undefined ? at.position : first),
        }
      },

      FilterLogEvents: (
        input: {
          logGroupName?: string
          logGroupIdentifier?: string
          logStreamNames?: string[]
          logStreamNamePrefix?: string
          startTime?: number
          endTime?: number
          filterPattern?: string
          nextToken?: string
          limit?: number
        },
        ctx,
      ) => {
        const group = groupName(input)
        requireGroup(ctx, group)
        if (input.logStreamNames?.length && input.logStreamNamePrefix) {
          throw invalid('logStreamNames and logStreamNamePrefix cannot both be specified.')
        }
        const streams = logs
          .streams(ctx.region, group)
          .filter((s) => !input.logStreamNames?.length || input.logStreamNames.includes(s.name))
          .filter((s) => !input.logStreamNamePrefix || s.name.startsWith(input.logStreamNamePrefix))
        const matches = filterMatcher(input.filterPattern)
        const events = streams
          .flatMap((s) =>
            logs.eventsOf(ctx.region, group, s.name).map((e, i) => ({
              logStreamName: s.name,
              timestamp: e.timestamp,
              message: e.message,
              ingestionTime: e.ingestionTime,
              eventId: `${String(e.timestamp).padStart(20, '0')}${String(i).padStart(36, '0')}`,
            })),
          )
          .filter(
            (e) =>
              (input.startTime === undefined || e.timestamp >= input.startTime) &&
              (input.endTime === undefined || e.timestamp <= input.endTime) &&
              matches(e.message),
          )
          .sort((a, b) => a.timestamp - b.timestamp || a.eventId.localeCompare(b.eventId))
        const { slice, nextToken } = page(events, input.limit, input.nextToken, 10_000, 10_000)
        return {
          events: slice,
          searchedLogStreams: streams.map((s) => ({ logStreamName: s.name, searchedCompletely: true })),
          ...(nextToken ? { nextToken } : {}),
        }
      },
    },
  }
}
