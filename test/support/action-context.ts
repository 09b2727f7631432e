import { jest } from '@jest/globals'
import { Report, type ActionContext, type Cancellation } from '@ecs-lockstep/core'

/**
 * An ActionContext for calling the shared logic directly, with the log captured instead of
 * printed: `log()` is what @actions/core wrote to stdout, so tests can assert on it.
 */
export function testContext(
  signal: AbortSignal = new AbortController().signal,
  cancellation: Cancellation = { at: undefined, killAt: undefined },
) {
  const written: string[] = []
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk))
    return true
  })
  const phases: string[] = []
  const outputs: Record<string, string> = {}
  const ctx: ActionContext = {
    signal,
    cancellation,
    report: new Report('test'),
    async phase(name, work) {
      phases.push(name)
      return work()
    },
    output(name, value) {
      outputs[name] = Array.isArray(value) ? value.join('\n') : String(value)
    },
    defer() {},
  }
  return {
    ctx,
    phases,
    outputs,
    log: () => written.join(''),
    release: () => spy.mockRestore(),
  }
}
