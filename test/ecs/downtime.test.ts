import { describe, expect, it } from '@jest/globals'
import type { Task } from '@aws-sdk/client-ecs'
import {
  describePrediction,
  downtimeReport,
  observedPhases,
  formatLastDeploy,
  parseLastDeploy,
  predictDowntime,
  type DowntimeSettings,
} from '../../packages/ecs-deploy/src/downtime.ts'

const SETTINGS: DowntimeSettings = {
  drainDelaySeconds: 10,
  configuredDelaySeconds: 10,
  stopTimeoutSeconds: 10,
  healthCheckIntervalSeconds: 5,
}

describe('the downtime prediction', () => {
  it('reads back what it wrote, and ignores a tag edited into something else', () => {
    const last = { phases: { drain: 15_400, handover: 300, start: 21_000, healthy: 5_100 }, delaySeconds: 10 }
    const value = formatLastDeploy(last)
    expect(value).toBe('drain=15.4 handover=0.3 start=21.0 healthy=5.1 delay=10')
    expect(value.length).toBeLessThanOrEqual(256)
    expect(parseLastDeploy(value)).toEqual(last)
    for (const bad of [
      '',
      'drain=1',
      'drain=x handover=0 start=1 healthy=1 delay=1',
      'a b c',
      'drain=-1 handover=0 start=1 healthy=1 delay=1',
    ])
      expect(parseLastDeploy(bad)).toBeUndefined()
  })

  it('without a measured deploy, bounds the drain by the delay and the stop timeout and says it guesses the start', () => {
    const prediction = predictDowntime({
      ...SETTINGS,
      containerHealthCheck: { intervalSeconds: 5, startPeriodSeconds: 5 },
    })
    expect(prediction.basis).toBe('settings')
    expect(prediction.measured).toEqual([])
    expect(prediction.phases.drain).toBe(20_000)
    expect(prediction.phases.healthy).toBe(5_000)
    expect(prediction.totalMs).toBe(20_000 + 500 + 30_000 + 5_000)
    expect(describePrediction(prediction)).toMatch(/at most, from the settings alone/)
    // Without a container check, the first passing target check comes half an interval in, on average.
    expect(predictDowntime(SETTINGS).phases.healthy).toBe(2_500)
  })

  it("before any measured deploy, reads the start and the drain off the service's own tasks", () => {
    const at = (s: number) => new Date(Date.parse('2026-12-03T10:00:00Z') + s * 1000)
    const running: Task = { taskArn: 'a/run', lastStatus: 'RUNNING', createdAt: at(100), startedAt: at(128) }
    const older: Task = { taskArn: 'a/old', lastStatus: 'STOPPED', createdAt: at(0), startedAt: at(40) }
    const scaledDown: Task = {
      ...older,
      stopCode: 'ServiceSchedulerInitiated',
      stoppingAt: at(90),
      stoppedAt: at(98),
    }
    const crashed: Task = {
      taskArn: 'a/crash',
      lastStatus: 'STOPPED',
      startedAt: at(60),
      stopCode: 'EssentialContainerExited',
      stoppingAt: at(95),
      stoppedAt: at(99),
    }
    const observed = observedPhases([crashed, scaledDown, running])
    // The newest start (28 s, not the older task's 40 s); the crash drained nothing.
    expect(observed).toEqual({ start: 28_000, drain: 8_000 })
    const prediction = predictDowntime(SETTINGS, undefined, observed)
    expect(prediction.basis).toBe('service tasks')
    expect(prediction.measured).toEqual(['drain', 'start'])
    expect(prediction.phases).toEqual({ drain: 8_000, handover: 500, start: 28_000, healthy: 2_500 })
    expect(describePrediction(prediction)).toMatch(/drain and start from the service's own tasks/)
    // A task that has only ever run: the start is known, the drain stays a bound.
    const startOnly = predictDowntime(SETTINGS, undefined, observedPhases([running]))
    expect(startOnly.measured).toEqual(['start'])
    expect(startOnly.phases.drain).toBe(20_000)
    expect(describePrediction(startOnly)).toMatch(/start from the service's own tasks, drain at most/)
    // Timestamps that make no phase (backwards, or days apart) are ignored.
    expect(
      observedPhases([
        { ...running, startedAt: at(50) },
        { ...running, startedAt: at(90_000) },
      ]),
    ).toEqual({})
  })

  it('from the last deploy: a drain that waited its whole delay scales with a new delay; one that ended sooner does not', () => {
    const waited = {
      phases: { drain: 15_000, handover: 400, start: 20_000, healthy: 5_000 },
      delaySeconds: 10,
    }
    const lowered = predictDowntime({ ...SETTINGS, drainDelaySeconds: 2 }, waited)
    expect(lowered.basis).toBe('last deploy')
    expect(lowered.phases).toEqual({ drain: 7_000, handover: 400, start: 20_000, healthy: 5_000 })
    const idle = { ...waited, phases: { ...waited.phases, drain: 6_000 } }
    expect(predictDowntime({ ...SETTINGS, drainDelaySeconds: 300 }, idle).phases.drain).toBe(6_000)
  })

  it('names the settings that would shorten it', () => {
    const slow = predictDowntime(
      { ...SETTINGS, drainDelaySeconds: 300, configuredDelaySeconds: 300, healthCheckIntervalSeconds: 30 },
      { phases: { drain: 330_000, handover: 0, start: 20_000, healthy: 30_000 }, delaySeconds: 300 },
    )
    expect(slow.shorten.join('\n')).toMatch(/drain-connections-for: 5s would shorten the drain by up to 295s/)
    expect(slow.shorten.join('\n')).toMatch(/took about 30\.0s to stop/)
    expect(slow.shorten.join('\n')).toMatch(/HealthCheckIntervalSeconds 30 → 5 saves up to 25s/)
    expect(predictDowntime({ ...SETTINGS, drainDelaySeconds: 2 }).shorten).toEqual([])
  })

  it('draws predicted against measured as a table and a Mermaid gantt on the real clock', () => {
    const prediction = predictDowntime(SETTINGS, {
      phases: { drain: 10_000, handover: 500, start: 20_000, healthy: 5_000 },
      delaySeconds: 10,
    })
    const at = Date.parse('2026-12-02T10:00:00Z')
    const text = downtimeReport(
      prediction,
      { drain: 11_000, handover: 400, start: 19_000, healthy: 6_000 },
      at,
    )
    expect(text).toContain('| Drain | 10.0s | 11.0s |')
    expect(text).toContain('| **Downtime** | **35.5s** | **36.4s** |')
    expect(text).toContain('```mermaid\ngantt\n')
    expect(text).toContain(`  Drain 11.0s :done, mdrain, ${at}, ${at + 11_000}`)
    expect(text).toContain(`  Hand-over 400ms :done, mhandover, ${at + 11_000}, ${at + 11_400}`)
    expect(text).toContain(`  Drain 10.0s :pdrain, ${at}, ${at + 10_000}`)
    // Nothing Mermaid would read as syntax inside a task name.
    for (const line of text.split('\n').filter((l) => / :/.test(l)))
      expect(line.split(':')[0]).not.toMatch(/[#;]/)
  })
})
