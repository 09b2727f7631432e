import { ConfiguredRetryStrategy } from '@smithy/core/retry'

/**
 * Settings every AWS client of the suite shares. Few SDK attempts, and no client-side rate limiter
 * (the adaptive mode's held single calls back for seconds after a "Rate exceeded"): a poll that is
 * throttled is simply tried again at the next poll, and every other call is retried patiently by
 * `aws()`. That keeps a failed task noticed, and the service scaled to 0, within about two seconds.
 * AWS_ENDPOINT_URL(_<SERVICE>) is read by the SDK itself, which is how ecs-local is reached.
 */
export function clientConfig(region: string) {
  return {
    region,
    // Three tries, 150 and 300 ms apart (the standard mode waits up to seconds after a throttle).
    retryStrategy: new ConfiguredRetryStrategy(2, (attempt: number) => 150 * attempt),
    customUserAgent: [['ecs-lockstep', '1']] as [string, string][],
  }
}
