import * as core from '@actions/core'
import * as log from './log.ts'
import { ActionError, CancelledError, errorMessage } from './errors.ts'
import { Report, type PhaseStatus } from './report.ts'
import { asInputError, type Input } from './inputs.ts'
import { redact } from './secrets.ts'
import { formatDuration } from './time.ts'
import { bounded } from './log.ts'

/**
 * How the runner cancels a step: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that. What a
 * step does after a cancel (restore the service) must be done before the SIGKILL.
 */
export const CANCEL_GRACE_MS = { afterSigint: 10_000, afterSigterm: 2_500 } as const

/** When the step was cancelled and when the runner will kill it; both undefined until then. */
export interface Cancellation {
  at: number | undefined
  killAt: number | undefined
}

/** `Output` is the union of the action's output names: a typo in one fails to compile. */
export interface ActionContext<Output extends string = string> {
  /** Aborted when the runner cancels the job (SIGINT, then SIGTERM); pass it to every wait. */
  readonly signal: AbortSignal
  /** Read it to fit cleanup after a cancel into the time the runner leaves. */
  readonly cancellation: Readonly<Cancellation>
  readonly report: Report
  /** Runs `work` in a collapsible log group and records it in the summary's timeline. */
  phase<T>(name: string, work: () => Promise<T>): Promise<T>
  /** Sets a step output (a list becomes one item per line). */
  output(name: Output, value: string | number | readonly string[]): void
  /** Registers cleanup that runs when the action ends, however it ends (last registered, first run). */
  defer(cleanup: () => Promise<void> | void): void
}

function cancellationSignal(): { signal: AbortSignal; cancellation: Cancellation; dispose: () => void } {
  const controller = new AbortController()
  const cancellation: Cancellation = { at: undefined, killAt: undefined }
  const onSignal = (name: NodeJS.Signals) => {
    const now = Date.now()
    cancellation.at ??= now
    const killAt = now + (name === 'SIGINT' ? CANCEL_GRACE_MS.afterSigint : CANCEL_GRACE_MS.afterSigterm)
    cancellation.killAt = Math.min(cancellation.killAt ?? killAt, killAt)
    log.warning(
      controller.signal.aborted
        ? `Received ${name}: the runner kills this step in ${formatDuration(cancellation.killAt - now)}.`
        : `Received ${name}: the workflow was cancelled. Stopping and cleaning up.`,
    )
    controller.abort(new CancelledError('the step was running'))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    cancellation,
    dispose: () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}

/** An error's stack followed by each of its causes' ("Caused by: …"), at most eight deep. */
function stackChain(error: unknown): string {
  const parts: string[] = []
  for (let current = error, depth = 0; current !== undefined && depth < 8; depth++) {
    parts.push(
      `${depth === 0 ? '' : 'Caused by: '}${current instanceof Error ? (current.stack ?? String(current)) : String(current)}`,
    )
    current = current instanceof Error ? current.cause : undefined
  }
  return parts.join('\n')
}

/**
 * The one way every entry point runs: errors become the step's failure annotation (with a hint
 * when we know what to do), a debug run shows every failure's stack and causes, cleanups always run,
 * and the job summary is written whatever happened.
 */
export async function runAction<Output extends string = string>(
  action: string,
  body: (ctx: ActionContext<Output>) => Promise<void>,
  options: {
    /** The action's inputs: the deploy engine's RequestError for a field becomes the error of its input. */
    inputs?: Record<string, Input<unknown>>
  } = {},
): Promise<void> {
  const report = new Report(action)
  const cleanups: (() => Promise<void> | void)[] = []
  const { signal, cancellation, dispose } = cancellationSignal()

  const ctx: ActionContext<Output> = {
    signal,
    cancellation,
    report,
    async phase(name, work) {
      const startedAt = new Date()
      let status: PhaseStatus = 'failed'
      core.startGroup(name)
      try {
        const result = await work()
        status = 'succeeded'
        return result
      } catch (error) {
        if (signal.aborted) status = 'cancelled'
        throw error
      } finally {
        core.endGroup()
        report.phase({ name, status, startedAt, ms: Date.now() - startedAt.getTime() })
      }
    },
    output(name, value) {
      core.setOutput(name, Array.isArray(value) ? value.join('\n') : String(value))
    },
    defer(cleanup) {
      cleanups.push(cleanup)
    },
  }

  let outcome: { ok: boolean; error?: string; hint?: string } = { ok: true }
  try {
    await body(ctx)
  } catch (thrown) {
    const error = options.inputs ? asInputError(thrown, options.inputs) : thrown
    const cancelled = signal.aborted
    const message = redact(
      cancelled && !(error instanceof ActionError) ? 'The workflow was cancelled.' : errorMessage(error),
    )
    const hint = error instanceof ActionError ? error.hint : undefined
    outcome = { ok: false, error: message, ...(hint ? { hint } : {}) }
    core.setFailed(bounded(hint ? `${message}\n${hint}` : message))
    // Stacks (source-mapped to the TypeScript) and the causes behind them, in a debug run only:
    // mapping a stack reads the source maps, tens of milliseconds on every failure otherwise.
    if (core.isDebug()) core.debug(redact(stackChain(error)))
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup()
      } catch (error) {
        log.warning(`Cleanup failed: ${redact(errorMessage(error))}`)
      }
    }
    dispose()
  }
  try {
    await report.write(outcome)
  } catch (error) {
    log.warning(`Could not write the job summary: ${errorMessage(error)}`)
  }
}
