import { ActionError, CancelledError } from './errors.ts'
import { formatDuration, sleep } from './time.ts'

export type Observation<T> =
  | { done: true; value: T }
  /**
   * `pollInMs`: the observer knows better than the backoff when to look next (a window ending, a
   * phase whose length it knows); the deadline still bounds it.
   */
  | { done: false; progress: string; pollInMs?: number }

export interface WaitOptions<T> {
  /** Finishes the sentence "waiting for …", e.g. "the container to answer /health". */
  what: string
  /** Epoch milliseconds after which waiting fails; a function when it can move (a cancel shortens it). */
  deadline: number | (() => number)
  observe: () => Promise<Observation<T>>
  signal?: AbortSignal
  /** Poll every `minMs` while things move, backing off by `factor` up to `maxMs` while nothing does. */
  interval?: { minMs: number; maxMs: number; factor: number }
  /** Called when the progress text changes (each state change is logged once, not every poll). */
  onProgress?: (progress: string) => void
}

export class WaitTimeoutError extends ActionError {
  readonly waitedMs: number
  readonly lastProgress: string

  constructor(what: string, waitedMs: number, lastProgress: string) {
    super(
      `Timed out after ${formatDuration(waitedMs)} waiting for ${what}. Last seen: ${lastProgress || 'nothing yet'}.`,
    )
    this.waitedMs = waitedMs
    this.lastProgress = lastProgress
  }
}

export const DEFAULT_INTERVAL = { minMs: 1000, maxMs: 5000, factor: 1.5 }

/**
 * Polls until `observe` says done, the deadline passes or the signal aborts. The interval resets to
 * its minimum whenever the observed progress changes, so a transition is noticed within `minMs`
 * while it is likely, and the API is spared while nothing moves. The last poll lands on the deadline.
 */
export async function waitFor<T>(options: WaitOptions<T>): Promise<T> {
  const interval = options.interval ?? DEFAULT_INTERVAL
  const started = Date.now()
  let delay = interval.minMs
  let lastProgress = ''
  const deadline =
    typeof options.deadline === 'function' ? options.deadline : () => options.deadline as number
  for (;;) {
    if (options.signal?.aborted) throw new CancelledError(`waiting for ${options.what}`)
    const observation = await options.observe()
    if (observation.done) return observation.value
    if (observation.progress !== lastProgress) {
      lastProgress = observation.progress
      delay = interval.minMs
      options.onProgress?.(observation.progress)
    } else {
      delay = Math.min(interval.maxMs, delay * interval.factor)
    }
    const remaining = deadline() - Date.now()
    if (remaining <= 0) throw new WaitTimeoutError(options.what, Date.now() - started, lastProgress)
    try {
      await sleep(Math.max(0, Math.min(observation.pollInMs ?? delay, remaining)), options.signal)
    } catch {
      throw new CancelledError(`waiting for ${options.what}`)
    }
  }
}
