import type { Store } from './state.ts'

/**
 * The invariant this project exists for: no two tasks may hold the same volume at once. The
 * monitor records every task's life on its volumes, from the moment its first container is
 * created (the mount exists) to the moment every container has been seen to exit, and reports
 * each pair of tasks whose lives overlap on a shared volume (EFS or host path).
 */

export interface VolumeUse {
  /** `efs:<fileSystemId>:<rootDirectory>` or `host:<sourcePath>`. */
  volume: string
  hostPath: string
}

export interface TaskLifetime {
  taskArn: string
  taskId: string
  cluster: string
  service?: string
  group: string
  taskDefinitionArn: string
  volumes: VolumeUse[]
  /** First container created. */
  from: number
  /** Every container seen to exit; absent while any may still run. */
  to?: number
  /** Event order, so two events in the same millisecond still compare correctly. */
  fromSeq: number
  toSeq?: number
}

export interface MonitorState {
  lifetimes: TaskLifetime[]
  seq: number
}

export function initialMonitorState(): MonitorState {
  return { lifetimes: [], seq: 0 }
}

export interface OverlapTask {
  taskArn: string
  taskId: string
  service?: string
  group: string
  taskDefinitionArn: string
  from: string
  to: string | null
}

export interface Overlap {
  /** The first shared volume; `volumes` lists every one the two tasks shared. */
  volume: string
  hostPath: string
  volumes: VolumeUse[]
  /** When both tasks were alive on the volume: ISO times; `to` is null while it lasts. */
  from: string
  to: string | null
  ms: number
  tasks: [OverlapTask, OverlapTask]
}

const KEPT_LIFETIMES = 5_000

/** Same directory, or one inside the other: a lock file in either is seen by both. */
function sharesFiles(a: string, b: string): boolean {
  const slash = (p: string) => (p.endsWith('/') ? p : `${p}/`)
  return slash(a).startsWith(slash(b)) || slash(b).startsWith(slash(a))
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())

export class InvariantMonitor {
  private readonly store: Store<{ monitor: MonitorState }>

  constructor(store: Store<{ monitor: MonitorState }>) {
    this.store = store
  }

  private get state(): MonitorState {
    return this.store.data.monitor
  }

  private nextSeq(): number {
    this.state.seq += 1
    return this.state.seq
  }

  /** A container of the task is about to be created: its volumes are in use from now on. */
  begin(lifetime: Omit<TaskLifetime, 'from' | 'fromSeq' | 'to' | 'toSeq'>): void {
    if (this.state.lifetimes.some((l) => l.taskArn === lifetime.taskArn)) return
    this.state.lifetimes.push({ ...lifetime, from: Date.now(), fromSeq: this.nextSeq() })
    if (this.state.lifetimes.length > KEPT_LIFETIMES) this.state.lifetimes.splice(0, 500)
    this.store.changed()
  }

  /** Every container of the task has exited. */
  end(taskArn: string, at = Date.now()): void {
    const lifetime = this.state.lifetimes.find((l) => l.taskArn === taskArn)
    if (!lifetime || lifetime.to !== undefined) return
    lifetime.to = at
    lifetime.toSeq = this.nextSeq()
    this.store.changed()
  }

  lifetimes(): TaskLifetime[] {
    return this.state.lifetimes
  }

  overlaps(now = Date.now()): Overlap[] {
    const found: Overlap[] = []
    const lives = this.state.lifetimes.filter((l) => l.volumes.length > 0)
    for (let i = 0; i < lives.length; i += 1) {
      for (let j = i + 1; j < lives.length; j += 1) {
        const a = lives[i] as TaskLifetime
        const b = lives[j] as TaskLifetime
        const together =
          a.fromSeq < (b.toSeq ?? Infinity) && b.fromSeq < (a.toSeq ?? Infinity) && a.taskArn !== b.taskArn
        if (!together) continue
        const shared = a.volumes
          .map((va) => {
            const vb = b.volumes.find((v) => sharesFiles(v.hostPath, va.hostPath))
            return vb
              ? {
                  volume: va.volume,
                  hostPath: va.hostPath.length <= vb.hostPath.length ? va.hostPath : vb.hostPath,
                }
              : undefined
          })
          .filter((v): v is VolumeUse => v !== undefined)
        const first = shared[0]
        if (!first) continue
        const from = Math.max(a.from, b.from)
        const ends = [a.to, b.to].filter((t): t is number => t !== undefined)
        const to = ends.length === 2 ? Math.min(...ends) : ends.length === 1 ? (ends[0] as number) : undefined
        found.push({
          volume: first.volume,
          hostPath: first.hostPath,
          volumes: shared,
          from: iso(from) as string,
          to: iso(to),
          ms: Math.max(0, (to ?? now) - from),
          tasks: [this.describe(a), this.describe(b)],
        })
      }
    }
    return found
  }

  private describe(l: TaskLifetime): OverlapTask {
    return {
      taskArn: l.taskArn,
      taskId: l.taskId,
      ...(l.service ? { service: l.service } : {}),
      group: l.group,
      taskDefinitionArn: l.taskDefinitionArn,
      from: iso(l.from) as string,
      to: iso(l.to),
    }
  }
}
