/**
 * An expected failure: something the user can act on. The run wrapper prints `message` as the
 * step's error annotation and `hint` as the next thing to try; no stack trace, since the stack
 * is ours and the problem is theirs.
 */
export class ActionError extends Error {
  override readonly name = 'ActionError'
  readonly hint: string | undefined

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.hint = options.hint
  }
}

/** Raised when the workflow is cancelled (SIGINT/SIGTERM from the runner) while a step waits. */
export class CancelledError extends ActionError {
  /** `detail`: what the step did about it, e.g. the state it restored. */
  constructor(what: string, detail?: string) {
    super(`Cancelled while ${what}.${detail ? ` ${detail}` : ''}`)
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
