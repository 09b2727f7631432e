/**
 * How long ecs-local's imitation of ECS takes. The defaults are short but keep ECS's order of
 * events; the rules ECS documents (40 s without health checks, one hour of STOPPED tasks) keep
 * their real values. Every duration can be 0: then a task walks its whole lifecycle as fast as
 * the runtime answers.
 */
export interface Timings {
  /** PROVISIONING: ECS finding capacity and attaching the task's network interface. */
  provisioningMs: number
  /** PENDING: waiting for the agent to take the task. */
  pendingMs: number
  /** Least time in ACTIVATING; pulling and starting the containers may take longer. */
  activatingMs: number
  /** Least time in STOPPING, after the containers have exited. */
  stoppingMs: number
  /** DEPROVISIONING: detaching the network interface. */
  deprovisioningMs: number
  /** A RUNNING task with no container health check and no load balancer counts as healthy after this (ECS: 40 s). */
  healthyWithoutChecksMs: number
  /** STOPPED tasks stay describable this long (ECS: one hour). */
  stoppedTaskRetentionMs: number
  /** INACTIVE services stay describable this long. */
  inactiveServiceRetentionMs: number
  /** First wait before relaunching after a failed launch; doubles per consecutive failure. */
  launchBackoffMs: number
  launchBackoffMaxMs: number
  /**
   * The scheduler's periodic safety tick. It also wakes exactly when a timed transition is due and
   * at once after API calls and runtime events, so this only bounds how late anything can be.
   */
  tickMs: number
  /**
   * Multiplies every duration that AWS resources configure in seconds: the target group's
   * deregistration delay and health check interval and timeout, container health check interval,
   * timeout and start period, stopTimeout, healthCheckGracePeriodSeconds. 1 is real time; 0.01
   * turns the default 300 s deregistration delay into 3 s.
   */
  awsSecondsScale: number
}

export const DEFAULT_TIMINGS: Timings = {
  provisioningMs: 400,
  pendingMs: 300,
  activatingMs: 300,
  stoppingMs: 0,
  deprovisioningMs: 300,
  healthyWithoutChecksMs: 40_000,
  stoppedTaskRetentionMs: 3_600_000,
  inactiveServiceRetentionMs: 3_600_000,
  launchBackoffMs: 1_000,
  launchBackoffMaxMs: 60_000,
  tickMs: 200,
  awsSecondsScale: 1,
}

/** Everything as fast as possible: for tests of the scheduler's logic with the simulated runtime. */
export const ZERO_TIMINGS: Timings = {
  ...DEFAULT_TIMINGS,
  provisioningMs: 0,
  pendingMs: 0,
  activatingMs: 0,
  stoppingMs: 0,
  deprovisioningMs: 0,
  healthyWithoutChecksMs: 0,
  launchBackoffMs: 0,
  launchBackoffMaxMs: 0,
  awsSecondsScale: 0,
}

/** The periodic tick never spins faster than this, whatever tickMs says. */
export const MIN_TICK_MS = 5

export function resolveTimings(overrides: Partial<Timings> = {}): Timings {
  const timings = { ...DEFAULT_TIMINGS }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`timings.${key} must be a number >= 0, got ${JSON.stringify(value)}`)
    }
    if (!(key in DEFAULT_TIMINGS)) throw new Error(`unknown timing '${key}'`)
    timings[key as keyof Timings] = value
  }
  return timings
}

/** Seconds configured in an AWS resource, as milliseconds of ecs-local's clock. */
export function awsSeconds(timings: Timings, seconds: number): number {
  return seconds * 1000 * timings.awsSecondsScale
}
