import { AwsError } from './errors.ts'

/**
 * Faults to inject, set through the control endpoint (`POST /_ecs-local/faults`) or the config
 * file. API faults apply in the server before a handler runs; task faults are read by the scheduler.
 */
export interface FaultConfig {
  /** Fraction (0-1) of calls answered with ThrottlingException "Rate exceeded". */
  throttleRate?: number
  /** The next N calls are throttled (decremented as they happen). */
  throttleNext?: number
  /** Fraction (0-1) of calls answered with a 500 ServerException. */
  serverErrorRate?: number
  serverErrorNext?: number
  /** The next `count` (default 1) calls fail with this AWS error, e.g. ExpiredTokenException. */
  failNext?: { code: string; message: string; status?: number; count?: number }
  /** Limits the API faults above to these calls, e.g. ["ecs:DescribeServices"]. */
  operations?: string[]
  /** The next N task launches fail as if the image could not be pulled. */
  launchFailures?: number
  /** Essential containers of tasks started from now on exit with code 1 after this many seconds. */
  crashAfterSeconds?: number
  /** Extra seconds every stopping task spends in STOPPING (a slow shutdown). */
  slowStopSeconds?: number
  /** Image references that cannot be pulled (CannotPullContainerError). */
  missingImages?: string[]
}

export class Faults {
  config: FaultConfig = {}

  set(config: FaultConfig): void {
    this.config = { ...config }
  }

  /** Throws the injected API error for this call, if any. */
  beforeCall(service: string, operation: string): void {
    const c = this.config
    if (c.operations && !c.operations.includes(`${service}:${operation}`)) return
    if (c.failNext && (c.failNext.count ?? 1) > 0) {
      const { code, message, status } = c.failNext
      c.failNext = { ...c.failNext, count: (c.failNext.count ?? 1) - 1 }
      throw new AwsError(code, message, status ?? 400)
    }
    if ((c.throttleNext ?? 0) > 0) {
      c.throttleNext = (c.throttleNext ?? 1) - 1
      throw new AwsError('ThrottlingException', 'Rate exceeded')
    }
    if (c.throttleRate && Math.random() < c.throttleRate)
      throw new AwsError('ThrottlingException', 'Rate exceeded')
    if ((c.serverErrorNext ?? 0) > 0) {
      c.serverErrorNext = (c.serverErrorNext ?? 1) - 1
      throw new AwsError('ServerException', 'Service Unavailable. Please try again later.', 500)
    }
    if (c.serverErrorRate && Math.random() < c.serverErrorRate) {
      throw new AwsError('ServerException', 'Service Unavailable. Please try again later.', 500)
    }
  }

  /** True (and counted) when the next task launch must fail. */
  takeLaunchFailure(): boolean {
    if ((this.config.launchFailures ?? 0) <= 0) return false
    this.config.launchFailures = (this.config.launchFailures ?? 1) - 1
    return true
  }
}
