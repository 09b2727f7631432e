import { ActionError } from '@ecs-lockstep/core/errors'
import { formatDuration, withTimeLimit } from '@ecs-lockstep/core/time'
import { DEPLOY_POLL, type PollSettings } from './poll.ts'
import { TaskTracker } from './tasks.ts'

/**
 * What every wait of one deploy shares: when to give up, what cancels it, how fast to poll, and the
 * tracker that logs each task's state changes once. Passed down whole, never rebuilt.
 */
export interface Budget {
  /** Epoch ms; a function because a cancel moves it (to just before the runner's SIGKILL). */
  deadline: () => number
  signal: AbortSignal
  poll: PollSettings
  tracker: TaskTracker
}

const NEVER = new AbortController().signal

export function createBudget(
  deadline: number | (() => number),
  signal: AbortSignal,
  poll: PollSettings = DEPLOY_POLL,
): Budget {
  return {
    deadline: typeof deadline === 'function' ? deadline : () => deadline,
    signal,
    poll,
    tracker: new TaskTracker(),
  }
}

/**
 * The same polling and tracker with another deadline and no cancel signal: for the cleanup that
 * runs after a cancel or a failure (restore, stop the service), which must not be aborted itself.
 */
export function cleanupBudget(from: Budget, deadline: () => number, signal: AbortSignal = NEVER): Budget {
  return { ...from, deadline, signal }
}

export function remainingMs(budget: Budget): number {
  return Math.max(0, budget.deadline() - Date.now())
}

/**
 * Runs `work` within the budget's deadline: the waits inside already stop there, this bounds the
 * rest too (reads and writes ECS retries on its own), so that no part of a step outlives `timeout`.
 */
export async function withinBudget<T>(budget: Budget, what: string, work: () => Promise<T>): Promise<T> {
  const startedAt = Date.now()
  return withTimeLimit(work(), budget.deadline() - startedAt, () => {
    throw new ActionError(
      `${what} did not finish within the time left (${formatDuration(Date.now() - startedAt)}).`,
    )
  })
}
