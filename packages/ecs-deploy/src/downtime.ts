import type { Task } from '@aws-sdk/client-ecs'
import { formatDuration } from '@ecs-lockstep/core/time'

/**
 * The downtime of a drain deploy, phase by phase: from the scale-down (ECS deregisters the old
 * task from the load balancer at once) to the new revision's first healthy moment.
 */
export interface DowntimePhases {
  /** Scale-down sent → every old task STOPPED (connection draining, SIGTERM, deprovisioning). */
  drain: number
  /** Drain noticed → the new deployment sent. */
  handover: number
  /** New deployment sent → its tasks RUNNING (provisioning, image pull, container start). */
  start: number
  /** RUNNING → healthy (container health check, the load balancer's first passing check). */
  healthy: number
}

export const PHASES = ['drain', 'handover', 'start', 'healthy'] as const satisfies (keyof DowntimePhases)[]

const PHASE_NAMES: Record<keyof DowntimePhases, string> = {
  drain: 'Drain',
  handover: 'Hand-over',
  start: 'Start',
  healthy: 'Healthy',
}

/** What the last successful drain deploy of the service measured: kept as a service tag. */
export const TAG_LAST_DEPLOY = 'ecs-lockstep:last-deploy'

export interface LastDeploy {
  phases: DowntimePhases
  /** The deregistration delay the drain ran with, seconds. */
  delaySeconds: number
}

/** `drain=12.3 handover=0.4 start=20.1 healthy=5.2 delay=10`: seconds, within a tag's 256 characters. */
export function formatLastDeploy(last: LastDeploy): string {
  const parts = PHASES.map((p) => `${p}=${(last.phases[p] / 1000).toFixed(1)}`)
  return [...parts, `delay=${last.delaySeconds}`].join(' ')
}

/** The tag's value read back; anything malformed (edited by hand) is ignored. */
export function parseLastDeploy(value: string | undefined): LastDeploy | undefined {
  if (!value) return undefined
  const fields = new Map<string, number>()
  for (const part of value.trim().split(/\s+/)) {
    const match = /^([a-z]+)=(\d{1,6}(?:\.\d+)?)$/.exec(part)
    if (!match) return undefined
    fields.set(match[1] as string, Number(match[2]))
  }
  const seconds = (name: string) => fields.get(name)
  if (PHASES.some((p) => seconds(p) === undefined) || seconds('delay') === undefined) return undefined
  const phases = Object.fromEntries(PHASES.map((p) => [p, Math.round((seconds(p) as number) * 1000)]))
  return { phases: phases as unknown as DowntimePhases, delaySeconds: seconds('delay') as number }
}

/** The service's settings that decide its downtime, as the preflight read them. */
export interface DowntimeSettings {
  /** The delay the drain will run with (drain-connections-for applied); 0 without a load balancer. */
  drainDelaySeconds: number
  /** The target groups' own delay, when drain-connections-for lowers it. */
  configuredDelaySeconds: number
  /** The longest stopTimeout of the new revision's containers (ECS's default: 30). */
  stopTimeoutSeconds: number
  /** The target group's health check interval, when the service has a load balancer. */
  healthCheckIntervalSeconds?: number
  /** The new revision's container health check, when it has one. */
  containerHealthCheck?: { intervalSeconds: number; startPeriodSeconds: number }
}

export interface DowntimePrediction {
  phases: DowntimePhases
  totalMs: number
  /** Where the estimates come from: the last deploy, the service's own tasks, or the settings alone. */
  basis: 'last deploy' | 'service tasks' | 'settings'
  /** The phases estimated from a measurement rather than from the settings. */
  measured: (keyof DowntimePhases)[]
  /** Settings that would shorten it, and by about how much. */
  shorten: string[]
}

/** A Fargate task's provisioning, image pull and start, when nothing was measured yet. */
const FIRST_START_GUESS_MS = 30_000
/** Task timestamps further apart than this are not a phase of a deploy (a task restored, a clock off). */
const LONGEST_PHASE_MS = 3_600_000

/** What the service's own tasks show of two phases, for a first deploy that has no measurement. */
export interface ObservedPhases {
  /** The newest task that ran: created → RUNNING (provisioning, image pull, container start). */
  start?: number
  /** The newest task stopped by ECS's scheduler or a user after it ran: stop decided → STOPPED. */
  drain?: number
}

/**
 * Reads the phases off the timestamps ECS keeps on tasks: the running task's own start, and the
 * drain of a task stopped within the last hour (ECS keeps stopped tasks that long), if any.
 */
export function observedPhases(tasks: Task[]): ObservedPhases {
  const span = (from: Date | undefined, to: Date | undefined) => {
    const ms = from && to ? to.getTime() - from.getTime() : NaN
    return ms >= 0 && ms <= LONGEST_PHASE_MS ? ms : undefined
  }
  const newestBy = (list: Task[], at: (t: Task) => Date | undefined) =>
    list.sort((a, b) => (at(b)?.getTime() ?? 0) - (at(a)?.getTime() ?? 0))[0]
  const started = newestBy(
    tasks.filter((t) => span(t.createdAt, t.startedAt) !== undefined),
    (t) => t.startedAt,
  )
  // A crash has no drain; a scale-down, a deployment or StopTask drains as this deploy will.
  const drained = newestBy(
    tasks.filter(
      (t) =>
        t.lastStatus === 'STOPPED' &&
        t.startedAt !== undefined &&
        (t.stopCode === 'ServiceSchedulerInitiated' || t.stopCode === 'UserInitiated') &&
        span(t.stoppingAt, t.stoppedAt) !== undefined,
    ),
    (t) => t.stoppedAt,
  )
  const start = started && span(started.createdAt, started.startedAt)
  const drain = drained && span(drained.stoppingAt, drained.stoppedAt)
  return { ...(start !== undefined ? { start } : {}), ...(drain !== undefined ? { drain } : {}) }
}

/**
 * A drain measured with one deregistration delay, for another: one that lasted its whole delay
 * scales with it; one that ended sooner (no connection left, which ends a deregistration at once)
 * will again, within the new bound.
 */
function drainWith(measuredMs: number, measuredDelayMs: number, delayMs: number, stopMs: number): number {
  return measuredMs >= measuredDelayMs
    ? measuredMs - measuredDelayMs + delayMs
    : Math.min(measuredMs, delayMs + stopMs)
}

/**
 * Predicts the downtime of a drain deploy before anything changes: from what the last deploy of
 * the service measured when there is one (adjusted for a different deregistration delay); else
 * from how long the service's own tasks took to start and to drain, and the settings for the rest.
 * A drain from the settings alone is a bound (the whole delay and stop timeout), not an estimate.
 */
export function predictDowntime(
  settings: DowntimeSettings,
  last?: LastDeploy,
  observed: ObservedPhases = {},
): DowntimePrediction {
  const delayMs = settings.drainDelaySeconds * 1000
  const stopMs = settings.stopTimeoutSeconds * 1000
  let phases: DowntimePhases
  let measured: (keyof DowntimePhases)[]
  if (last) {
    phases = {
      ...last.phases,
      drain: drainWith(last.phases.drain, last.delaySeconds * 1000, delayMs, stopMs),
    }
    measured = [...PHASES]
  } else {
    const hc = settings.containerHealthCheck
    // A target is registered before its task is RUNNING and turns healthy at its first passing
    // check: on average half an interval later.
    const firstCheckMs = ((settings.healthCheckIntervalSeconds ?? 0) * 1000) / 2
    const containerMs = hc
      ? Math.min(hc.intervalSeconds, hc.startPeriodSeconds || hc.intervalSeconds) * 1000
      : 0
    phases = {
      drain:
        observed.drain !== undefined
          ? drainWith(observed.drain, settings.configuredDelaySeconds * 1000, delayMs, stopMs)
          : delayMs + stopMs,
      handover: 500,
      start: observed.start ?? FIRST_START_GUESS_MS,
      healthy: Math.max(firstCheckMs, containerMs),
    }
    measured = (['drain', 'start'] as const).filter((p) => observed[p] !== undefined)
  }
  const shorten: string[] = []
  if (settings.drainDelaySeconds > 5) {
    shorten.push(
      `drain-connections-for: 5s would shorten the drain by up to ${settings.drainDelaySeconds - 5}s (the target group's deregistration delay is ${settings.drainDelaySeconds}s; a single-task service serves nothing while it drains anyway)`,
    )
  }
  if (last && last.phases.drain - Math.min(last.phases.drain, last.delaySeconds * 1000) > 10_000) {
    const stopped = last.phases.drain - last.delaySeconds * 1000
    shorten.push(
      `the old task took about ${formatDuration(stopped)} to stop after its connections drained: an app that exits promptly on SIGTERM (closing its database) saves most of that`,
    )
  }
  if ((settings.healthCheckIntervalSeconds ?? 0) > 10) {
    shorten.push(
      `a new target is healthy after its first passing check: HealthCheckIntervalSeconds ${settings.healthCheckIntervalSeconds} → 5 saves up to ${(settings.healthCheckIntervalSeconds as number) - 5}s`,
    )
  }
  return {
    phases,
    totalMs: PHASES.reduce((sum, p) => sum + phases[p], 0),
    basis: last ? 'last deploy' : measured.length > 0 ? 'service tasks' : 'settings',
    measured,
    shorten,
  }
}

/** One line for the plan: the expected downtime and its phases. */
export function describePrediction(prediction: DowntimePrediction): string {
  const parts = PHASES.filter((p) => p !== 'handover').map(
    (p) => `${PHASE_NAMES[p].toLowerCase()} ${formatDuration(prediction.phases[p])}`,
  )
  const measured = prediction.measured
  const basis =
    prediction.basis === 'last deploy'
      ? 'from the last deploy of this service'
      : prediction.basis === 'service tasks'
        ? `${measured.join(' and ')} from the service's own tasks, ${measured.includes('drain') ? '' : 'drain at most, '}the rest from the settings`
        : 'at most, from the settings alone; the start is a guess until a deploy was measured'
  return `~${formatDuration(prediction.totalMs)} (${parts.join(', ')}; ${basis})`
}

/** Predicted against measured, as a table and a Mermaid timeline for the job summary. */
export function downtimeReport(
  prediction: DowntimePrediction,
  measured: DowntimePhases,
  startedAt: number,
): string {
  const total = PHASES.reduce((sum, p) => sum + measured[p], 0)
  const rows = PHASES.map(
    (p) => `| ${PHASE_NAMES[p]} | ${formatDuration(prediction.phases[p])} | ${formatDuration(measured[p])} |`,
  )
  const bars = (name: string, tag: string, phases: DowntimePhases) => {
    let at = startedAt
    const lines = [`  section ${name}`]
    for (const p of PHASES) {
      const end = at + Math.max(phases[p], 1)
      lines.push(
        `  ${PHASE_NAMES[p]} ${formatDuration(phases[p])} :${tag}${p}, ${Math.round(at)}, ${Math.round(end)}`,
      )
      at = end
    }
    return lines
  }
  return [
    `| Phase | Predicted (${prediction.basis}) | Measured |`,
    '|---|---|---|',
    ...rows,
    `| **Downtime** | **${formatDuration(prediction.totalMs)}** | **${formatDuration(total)}** |`,
    '',
    '```mermaid',
    'gantt',
    `  title Downtime - predicted ${formatDuration(prediction.totalMs)}, measured ${formatDuration(total)}`,
    '  dateFormat x',
    '  axisFormat %H:%M:%S',
    ...bars('Measured', 'done, m', measured),
    ...bars('Predicted', 'p', prediction.phases),
    '```',
  ].join('\n')
}
