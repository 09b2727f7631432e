/** Every AWS call served, for the report's "which actions did each caller use" and for benchmarks. */
export interface CallRecord {
  at: number
  caller: string
  service: string
  operation: string
  /** The error shape returned, when the call failed. */
  error?: string
}

export class CallLog {
  readonly records: CallRecord[] = []

  add(record: CallRecord): void {
    this.records.push(record)
    if (this.records.length > 100_000) this.records.splice(0, 10_000)
  }

  /** `{ caller: { "ecs:DescribeServices": 12, ... } }` */
  byCaller(): Record<string, Record<string, number>> {
    const result: Record<string, Record<string, number>> = {}
    for (const r of this.records) {
      const counts = (result[r.caller] ??= {})
      const key = `${r.service}:${r.operation}`
      counts[key] = (counts[key] ?? 0) + 1
    }
    return result
  }
}
