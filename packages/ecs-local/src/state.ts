import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * ecs-local's resources as one JSON document, written to disk shortly after each change so that
 * a restart keeps every cluster, revision, service and repository. Times are epoch milliseconds.
 */
export class Store<T extends object> {
  readonly data: T
  private readonly file: string | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(file: string | undefined, initial: () => T) {
    this.file = file
    const saved = file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<T>) : {}
    this.data = { ...initial(), ...saved }
  }

  /** Marks the state dirty; it is written within 100 ms, coalescing bursts of changes. */
  changed(): void {
    if (!this.file || this.timer) return
    this.timer = setTimeout(() => this.flush(), 100)
    this.timer.unref()
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (!this.file) return
    mkdirSync(dirname(this.file), { recursive: true })
    // Write then rename, so a crash mid-write never leaves a truncated state file.
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.data, null, 1))
    renameSync(`${this.file}.tmp`, this.file)
  }
}
