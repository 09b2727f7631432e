import { describe, expect, it } from '@jest/globals'
import { CancelledError, waitFor, WaitTimeoutError } from '@ecs-lockstep/core'

const fast = { minMs: 10, maxMs: 80, factor: 2 }

describe('waitFor', () => {
  it('returns the value once observed done, reporting each change of progress once', async () => {
    const states = ['PENDING', 'PENDING', 'ACTIVATING', 'ACTIVATING', 'RUNNING']
    const seen: string[] = []
    const result = await waitFor({
      what: 'the task',
      deadline: Date.now() + 5000,
      interval: fast,
      onProgress: (p) => seen.push(p),
      observe: async () => {
        const state = states.shift() as string
        return state === 'RUNNING' ? { done: true, value: state } : { done: false, progress: state }
      },
    })
    expect(result).toBe('RUNNING')
    expect(seen).toEqual(['PENDING', 'ACTIVATING'])
  })

  it('polls when the observer asks to, rather than after the interval', async () => {
    const polls: number[] = []
    const windowEnds = Date.now() + 300
    await waitFor({
      what: 'a window to end',
      deadline: Date.now() + 5000,
      interval: { minMs: 1000, maxMs: 1000, factor: 1 },
      observe: async () => {
        polls.push(Date.now())
        if (Date.now() >= windowEnds) return { done: true, value: undefined }
        return { done: false, progress: 'watching', pollInMs: windowEnds - Date.now() }
      },
    })
    // Without pollInMs the second poll would come a whole second later (a timer may fire a
    // millisecond before Date.now() agrees, hence a possible third poll right after).
    expect(polls.length).toBeLessThanOrEqual(3)
    expect((polls.at(-1) as number) - (polls[0] as number)).toBeLessThan(900)
  })

  it('waits longer than the interval when the observer asks to, and never past the deadline', async () => {
    const polls: number[] = []
    const started = Date.now()
    await expect(
      waitFor({
        what: 'a slow phase',
        deadline: started + 450,
        interval: { minMs: 10, maxMs: 10, factor: 1 },
        observe: async () => {
          polls.push(Date.now())
          return { done: false, progress: 'slow', pollInMs: 200 }
        },
      }),
    ).rejects.toThrow(WaitTimeoutError)
    const gaps = polls.slice(1).map((t, i) => t - (polls[i] as number))
    expect(gaps[0]).toBeGreaterThanOrEqual(195)
    expect(polls.length).toBeLessThanOrEqual(4)
  })

  it('backs off while nothing changes and returns to the minimum interval on a change', async () => {
    const polls: number[] = []
    let n = 0
    await waitFor({
      what: 'x',
      deadline: Date.now() + 5000,
      interval: fast,
      observe: async () => {
        polls.push(Date.now())
        n++
        if (n === 9) return { done: true, value: n }
        return { done: false, progress: n < 6 ? 'same' : `changed-${n}` }
      },
    })
    const gaps = polls.slice(1).map((t, i) => t - (polls[i] as number))
    // 'same' for polls 1-5: 10, 20, 40, 80, 80 (capped); then every poll changes: back to 10.
    expect(gaps[3]).toBeGreaterThanOrEqual(70)
    expect(gaps[6]).toBeLessThan(40)
  })

  it('fails at the deadline with what it waited for and what it last saw', async () => {
    const started = Date.now()
    const error = await waitFor({
      what: 'the old task to stop',
      deadline: started + 200,
      interval: fast,
      observe: async () => ({ done: false, progress: 'task abc is DEACTIVATING' }),
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WaitTimeoutError)
    expect((error as Error).message).toMatch(
      /^Timed out after \d+ms waiting for the old task to stop\. Last seen: task abc is DEACTIVATING\.$/,
    )
    expect(Date.now() - started).toBeLessThan(400)
  })

  it('stops when cancelled', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 30)
    await expect(
      waitFor({
        what: 'health',
        deadline: Date.now() + 10_000,
        signal: controller.signal,
        interval: { minMs: 1000, maxMs: 1000, factor: 1 },
        observe: async () => ({ done: false, progress: 'nope' }),
      }),
    ).rejects.toBeInstanceOf(CancelledError)
  })
})
