import { afterAll, afterEach, expect, it, jest } from '@jest/globals'
import { bounded, info, MAX_MESSAGE_CHARS } from '@ecs-lockstep/core/log'

let written: string[] = []
const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
  written.push(String(chunk))
  return true
})
afterEach(() => {
  written = []
})
afterAll(() => spy.mockRestore())

it('prints plain text as it is', () => {
  info('Scaling wwhd-backend to 0')
  expect(written.join('')).toBe('Scaling wwhd-backend to 0\n')
})

it.each([
  ['a line starting with ::', 'ok\n::set-output name=pwned::x\nok'],
  ['after leading whitespace', '   ::add-mask::x'],
  ['after CRLF', 'ok\r\n::stop-commands::token\r\nok'],
  ['the legacy form anywhere in a line', 'build step ##[set-output name=a;]b'],
])('fences %s between a random stop-commands token and its resume', (_, text) => {
  info(text)
  info(text)
  const out = written.join('').split('\n')
  const first = /^::stop-commands::([0-9a-f]{32})$/.exec(out[0] ?? '')
  expect(first).not.toBeNull()
  const token = first?.[1] as string
  const resume = out.indexOf(`::${token}::`)
  expect(out.slice(1, resume).join('\n')).toBe(text)
  // A fresh token for every print: text cannot guess it and resume the commands itself.
  const second = /^::stop-commands::([0-9a-f]{32})$/.exec(out[resume + 1] ?? '')?.[1]
  expect(second).toBeDefined()
  expect(second).not.toBe(token)
})

it('bounds a message to a few KB and says how much was left out', () => {
  const long = 'x'.repeat(100_000)
  const cut = bounded(long)
  expect(cut.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS)
  expect(cut).toMatch(/… \(\d+ more characters; the log has the details\)$/)
  expect(bounded('short')).toBe('short')
})
