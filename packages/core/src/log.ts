import * as core from '@actions/core'
import { randomBytes } from 'node:crypto'
import { EOL } from 'node:os'

/**
 * Every line the actions print goes through here. Much of it comes from elsewhere (process output,
 * container logs, AWS messages, HTTP bodies, inputs), and the runner obeys any stdout line that,
 * after leading whitespace, starts with `::` (or carries the legacy `##[`) as a workflow command.
 * Such text is printed between `::stop-commands::<token>` and `::<token>::`, with a random token
 * per print: it is shown as it is and never obeyed, and the action's own commands work after it.
 * Annotations (warning, error) are escaped by @actions/core and bounded here.
 */

const COMMAND_LIKE = /^\s*::|##\[/m

/** The longest annotation or error message: a few KB, whatever the input or the AWS answer. */
export const MAX_MESSAGE_CHARS = 4000

function write(line: string): void {
  process.stdout.write(line + EOL)
}

/** Prints text, fenced when any line of it could be taken for a workflow command. */
export function info(text: string): void {
  if (!COMMAND_LIKE.test(text)) {
    write(text)
    return
  }
  const token = randomBytes(16).toString('hex')
  write(`::stop-commands::${token}`)
  write(text)
  write(`::${token}::`)
}

/** Cuts text to `max` characters, saying how much was left out. */
export function bounded(text: string, max = MAX_MESSAGE_CHARS): string {
  if (text.length <= max) return text
  const note = `… (${text.length - max} more characters; the log has the details)`
  return text.slice(0, Math.max(0, max - note.length)) + note
}

export function warning(message: string): void {
  core.warning(bounded(message))
}

export function error(message: string): void {
  core.error(bounded(message))
}

export { debug, endGroup, startGroup } from '@actions/core'
