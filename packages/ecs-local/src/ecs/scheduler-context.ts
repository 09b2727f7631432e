/** What the scheduler's parts share: its dependencies, the runtime, the bookkeeping of tasks in flight. */

import type { LoadBalancing } from '../elb/balancer.ts'
import type { Faults } from '../faults.ts'
import type { LogStore } from '../logs/store.ts'
import type { InvariantMonitor } from '../monitor.ts'
import type { LaunchError, StartedContainer, TaskRuntime } from '../runtime/types.ts'
import type { Store } from '../state.ts'
import type { Timings } from '../timings.ts'
import type { EcsState } from './state.ts'
import type { BuiltTask } from './task-spec.ts'

export interface SchedulerOptions {
  store: Store<{ ecs: EcsState }>
  elb: LoadBalancing
  logs: LogStore
  monitor: InvariantMonitor
  faults: Faults
  timings: Timings
  workDir: string
  accountId: string
  secrets: () => Record<string, string>
}

export interface StartOperation {
  settled: boolean
  error?: LaunchError
  containers?: StartedContainer[]
  targetsRegistered: boolean
}

/** The tick loop, which the Scheduler owns: every part may ask for a tick now or at a given time. */
export interface Clock {
  kick(): void
  wakeAt(at: number): void
}

export class SchedulerContext {
  readonly deps: SchedulerOptions
  private readonly clock: Clock
  runtime!: TaskRuntime
  /** Set by shutdown: no more ticks, and runtime events are ignored. */
  closed = false
  /** The runtime's start and stop of each task in flight, and whether it has answered yet. */
  readonly starting = new Map<string, StartOperation>()
  readonly stopping = new Map<string, { settled: boolean }>()
  readonly built = new Map<string, BuiltTask>()
  /** Containers the runtime has created, per task: the task's life on its volumes ends when all have exited. */
  readonly created = new Map<string, Set<string>>()
  readonly checking = new Set<string>()
  /** Containers of STOPPED tasks being removed: shutdown waits for them. */
  readonly removals = new Set<Promise<unknown>>()
  /** "has started / has stopped N tasks" events are gathered per tick, as ECS words them. */
  readonly started = new Map<string, string[]>()
  readonly stoppedByScheduler = new Map<string, string[]>()

  constructor(options: SchedulerOptions, clock: Clock) {
    this.deps = options
    this.clock = clock
  }

  get state(): EcsState {
    return this.deps.store.data.ecs
  }

  get timings(): Timings {
    return this.deps.timings
  }

  kick(): void {
    this.clock.kick()
  }

  wakeAt(at: number): void {
    this.clock.wakeAt(at)
  }
}
