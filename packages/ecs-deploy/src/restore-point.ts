import * as core from '@actions/core'

/** GITHUB_STATE key holding what to restore if the step is cancelled after changing the service. */
export const RESTORE_STATE = 'restore-point'

/** The service as it was before the step changed anything, and how to put it back. */
export interface RestorePoint {
  cluster: string
  service: string
  region: string
  taskDefinitionArn: string
  desiredCount: number
  /** Single-writer (or drain strategy): every task must be STOPPED before the old revision starts. */
  drain: boolean
  /** How long a drain may take (deregistration delay + stop timeout), to size the post step's wait. */
  drainSeconds: number
}

export function saveRestorePoint(point: RestorePoint): void {
  core.saveState(RESTORE_STATE, JSON.stringify(point))
}

/** Called once the step has ended in a state it reports itself: nothing left for the post step. */
export function clearRestorePoint(): void {
  core.saveState(RESTORE_STATE, '')
}

export function readRestorePoint(): RestorePoint | undefined {
  const saved = core.getState(RESTORE_STATE)
  if (!saved) return undefined
  const point = JSON.parse(saved) as Partial<RestorePoint>
  return { drain: true, drainSeconds: 330, ...point } as RestorePoint
}

/** GITHUB_STATE key holding the deregistration delays lowered for a drain (drain-connections-for) and not yet put back. */
export const LOWERED_STATE = 'lowered-deregistration-delays'

export interface LoweredDelay {
  targetGroupArn: string
  previousSeconds: number
  loweredToSeconds: number
}
