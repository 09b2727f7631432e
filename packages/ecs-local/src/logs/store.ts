import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Store } from '../state.ts'

/** CloudWatch Logs metadata lives in the Store; events are appended to one JSON-lines file. */

export interface LogGroupRecord {
  name: string
  region: string
  createdAt: number
  retentionInDays?: number
}

export interface LogStreamRecord {
  group: string
  name: string
  region: string
  createdAt: number
  firstEventTimestamp?: number
  lastEventTimestamp?: number
  lastIngestionTime?: number
  storedBytes: number
}

export interface LogEvent {
  timestamp: number
  message: string
  ingestionTime: number
}

export interface LogsState {
  groups: Record<string, LogGroupRecord>
  streams: Record<string, LogStreamRecord>
}

export function initialLogsState(): LogsState {
  return { groups: {}, streams: {} }
}

/** Events kept per stream in memory (and replayed from disk on restart); older ones are dropped. */
const EVENTS_PER_STREAM = 50_000

const groupKey = (region: string, group: string) => `${region}|${group}`
const streamKey = (region: string, group: string, stream: string) => `${region}|${group}|${stream}`

export class LogStore {
  private readonly store: Store<{ logs: LogsState }>
  private readonly eventsFile: string | undefined
  private readonly events = new Map<string, LogEvent[]>()

  constructor(store: Store<{ logs: LogsState }>, eventsFile: string | undefined) {
    this.store = store
    this.eventsFile = eventsFile
    if (eventsFile && existsSync(eventsFile)) {
      for (const line of readFileSync(eventsFile, 'utf8').split('\n')) {
        if (!line) continue
        try {
          const e = JSON.parse(line) as { k: string; t: number; m: string; i: number }
          this.memorize(e.k, { timestamp: e.t, message: e.m, ingestionTime: e.i })
        } catch {
          // A line cut short by a crash: skip it, keep the rest.
        }
      }
    }
  }

  private get state(): LogsState {
    return this.store.data.logs
  }

  group(region: string, name: string): LogGroupRecord | undefined {
    return this.state.groups[groupKey(region, name)]
  }

  groups(region: string): LogGroupRecord[] {
    return Object.values(this.state.groups)
      .filter((g) => g.region === region)
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  createGroup(region: string, name: string): LogGroupRecord {
    const record: LogGroupRecord = { name, region, createdAt: Date.now() }
    this.state.groups[groupKey(region, name)] = record
    this.store.changed()
    return record
  }

  deleteGroup(region: string, name: string): void {
    Reflect.deleteProperty(this.state.groups, groupKey(region, name))
    for (const stream of this.streams(region, name)) {
      const key = streamKey(region, name, stream.name)
      Reflect.deleteProperty(this.state.streams, key)
      this.events.delete(key)
    }
    this.store.changed()
  }

  stream(region: string, group: string, name: string): LogStreamRecord | undefined {
    return this.state.streams[streamKey(region, group, name)]
  }

  streams(region: string, group: string): LogStreamRecord[] {
    return Object.values(this.state.streams)
      .filter((s) => s.region === region && s.group === group)
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  createStream(region: string, group: string, name: string): LogStreamRecord {
    const record: LogStreamRecord = { group, name, region, createdAt: Date.now(), storedBytes: 0 }
    this.state.streams[streamKey(region, group, name)] = record
    this.store.changed()
    return record
  }

  /** Appends events to a stream that exists, in timestamp order as CloudWatch keeps them. */
  put(region: string, group: string, name: string, events: { timestamp: number; message: string }[]): void {
    const stream = this.stream(region, group, name)
    if (!stream) return
    const key = streamKey(region, group, name)
    const ingestionTime = Date.now()
    const lines: string[] = []
    for (const { timestamp, message } of events) {
      this.memorize(key, { timestamp, message, ingestionTime })
      stream.firstEventTimestamp = Math.min(stream.firstEventTimestamp ?? timestamp, timestamp)
      stream.lastEventTimestamp = Math.max(stream.lastEventTimestamp ?? timestamp, timestamp)
      stream.storedBytes += Buffer.byteLength(message)
      lines.push(JSON.stringify({ k: key, t: timestamp, m: message, i: ingestionTime }))
    }
    stream.lastIngestionTime = ingestionTime
    if (this.eventsFile && lines.length > 0) {
      mkdirSync(dirname(this.eventsFile), { recursive: true })
      appendFileSync(this.eventsFile, lines.join('\n') + '\n')
    }
    this.store.changed()
  }

  eventsOf(region: string, group: string, name: string): LogEvent[] {
    return this.events.get(streamKey(region, group, name)) ?? []
  }

  private memorize(key: string, event: LogEvent): void {
    let list = this.events.get(key)
    if (!list) this.events.set(key, (list = []))
    // Usually in order; a late line (two streams of one container) is slotted into place.
    let at = list.length
    while (at > 0 && (list[at - 1] as LogEvent).timestamp > event.timestamp) at -= 1
    list.splice(at, 0, event)
    if (list.length > EVENTS_PER_STREAM) list.splice(0, list.length - EVENTS_PER_STREAM)
  }

  /** Writes a line for the awslogs driver: creates the stream on first use, like the driver does. */
  write(region: string, group: string, name: string, message: string, timestamp: number): void {
    if (!this.group(region, group)) return
    if (!this.stream(region, group, name)) this.createStream(region, group, name)
    this.put(region, group, name, [{ timestamp, message }])
  }
}
