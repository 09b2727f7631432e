import * as core from '@actions/core'
import type { Observation } from '@ecs-lockstep/core/wait'
import { isTransient } from '@ecs-lockstep/core/aws/errors'

/**
 * How deploy waits poll: about once a second while things move, backing off to 1.8 s while
 * nothing does, so any state is noticed within 2 s and a long drain costs fewer calls.
 */
export interface PollSettings {
  minMs: number
  maxMs: number
  factor: number
}

export const DEPLOY_POLL: PollSettings = { minMs: 1000, maxMs: 1800, factor: 1.25 }

/**
 * Wraps an observation so that throttling or a 5xx that outlasted the retries counts as "nothing
 * new this time" rather than a failure: waiting is never failed by AWS's passing trouble alone.
 */
export function tolerateTransient<T>(observe: () => Promise<Observation<T>>): () => Promise<Observation<T>> {
  let last = 'waiting'
  return async () => {
    try {
      const observation = await observe()
      if (!observation.done) last = observation.progress
      return observation
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause ?? error
      if (!isTransient(cause)) throw error
      core.debug(`AWS was busy while polling; trying again (${(cause as Error).message})`)
      return { done: false, progress: last }
    }
  }
}
