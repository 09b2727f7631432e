import { describe, expect, it } from '@jest/globals'
import { formatDuration, parseDuration, sleep, toSeconds, withTimeLimit } from '@ecs-lockstep/core'

describe('durations', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    [' 2m ', 120_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms))

  it.each(['', '90', 's', '5 m', '-1s', '1d', '1m-', 'abc'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  )

  it.each([
    [850, '850ms'],
    [12_340, '12.3s'],
    [245_000, '4m 05s'],
    [3_720_000, '1h 02m'],
  ])('formats %d ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text))

  it('rounds outputs to tenths of a second', () => expect(toSeconds(12_349)).toBe(12.3))

  it('sleep stops at once when its signal aborts', async () => {
    const controller = new AbortController()
    const started = Date.now()
    setTimeout(() => controller.abort(new Error('cancelled')), 20)
    await expect(sleep(10_000, controller.signal)).rejects.toThrow('cancelled')
    expect(Date.now() - started).toBeLessThan(1000)
  })
})

describe('withTimeLimit', () => {
  const after = <T>(ms: number, value: T) => sleep(ms).then(() => value)

  it("gives the work's result when it comes in time", async () => {
    await expect(withTimeLimit(after(5, 'done'), 1_000, () => 'late')).resolves.toBe('done')
  })

  it("gives late()'s value, or its error, when the time is up first", async () => {
    await expect(withTimeLimit(after(200, 'done'), 10, () => 'late')).resolves.toBe('late')
    await expect(
      withTimeLimit(after(200, 'done'), 10, () => {
        throw new Error('no answer')
      }),
    ).rejects.toThrow('no answer')
  })

  it('sets no limit for an infinite time (a timer of Infinity would fire at once)', async () => {
    await expect(withTimeLimit(after(30, 'done'), Infinity, () => 'late')).resolves.toBe('done')
  })
})
