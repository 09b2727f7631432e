import type { Diagnosis } from './diagnose.ts'
import type { DowntimePrediction } from './downtime.ts'

/**
 * What the engine tells whoever runs it, as it happens. The actions turn these into log groups,
 * the summary's timeline and facts, and step outputs set as soon as each value is known (a
 * workflow can act on a failed step: roll back only when the deployment was started).
 */
export type DeployEvent =
  | { type: 'phase-started'; phase: string }
  | {
      type: 'phase-ended'
      phase: string
      status: 'succeeded' | 'failed' | 'cancelled'
      startedAt: Date
      ms: number
    }
  | {
      /** The preflight is done; nothing has changed in AWS yet. */
      type: 'planned'
      purpose: 'deploy' | 'rollback'
      cluster: string
      service: string
      previousTaskDefinitionArn: string
      taskDefinitionArn: string
      strategy: 'drain' | 'rolling'
      singleWriter: boolean
      downtime?: DowntimePrediction
    }
  | { type: 'deployment-started'; deploymentId: string }
  | { type: 'diagnosed'; diagnosis: Diagnosis }

/** What the engine needs from its caller: the cancel signal, the kill deadline, somewhere to send events. */
export interface EngineContext {
  /** Aborted on cancel: every wait stops, and the engine puts the service back before `killAt`. */
  readonly signal: AbortSignal
  /** Epoch ms at which the process will be killed after a cancel, once known. */
  killAt(): number | undefined
  emit(event: DeployEvent): void
}

/** Runs one phase of the engine's work between a phase-started and a phase-ended event. */
export async function inPhase<T>(engine: EngineContext, phase: string, work: () => Promise<T>): Promise<T> {
  const startedAt = new Date()
  let status: 'succeeded' | 'failed' | 'cancelled' = 'failed'
  engine.emit({ type: 'phase-started', phase })
  try {
    const result = await work()
    status = 'succeeded'
    return result
  } catch (error) {
    if (engine.signal.aborted) status = 'cancelled'
    throw error
  } finally {
    engine.emit({ type: 'phase-ended', phase, status, startedAt, ms: Date.now() - startedAt.getTime() })
  }
}
