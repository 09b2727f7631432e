// How `npm run pipeline` and `npm run campaign` judge the invariant monitor's overlaps: two
// revisions alive at once on a volume is what the suite must never cause; the same revision twice
// is ECS replacing a failed task by itself (aws/containers-roadmap 959), accepted only inside an
// attempt that failed, and only once per attempt.
import type { Overlap } from '@ecs-lockstep/ecs-local'

export type OverlapKind = 'across-revisions' | 'outside-a-failing-attempt' | 'replacement-in-failing-attempt'

/** A step that failed: its overlaps of one revision with itself are ECS's replacements. */
export interface FailedAttempt {
  name: string
  from: number
  to: number
}

export interface JudgedOverlap {
  overlap: Overlap
  kind: OverlapKind
  attempt?: string
}

export function judgeOverlaps(overlaps: Overlap[], failed: FailedAttempt[]): JudgedOverlap[] {
  return overlaps.map((overlap) => {
    const revisions = new Set(overlap.tasks.map((t) => t.taskDefinitionArn))
    if (revisions.size > 1) return { overlap, kind: 'across-revisions' }
    const from = Date.parse(overlap.from)
    const attempt = failed.find((a) => from >= a.from && from <= a.to)
    return attempt
      ? { overlap, kind: 'replacement-in-failing-attempt', attempt: attempt.name }
      : { overlap, kind: 'outside-a-failing-attempt' }
  })
}

/** Overlaps that break the promise: across revisions, outside a failing attempt, or a second one in an attempt. */
export function broken(judged: JudgedOverlap[]): JudgedOverlap[] {
  const perAttempt = new Map<string, number>()
  return judged.filter((j) => {
    if (j.kind !== 'replacement-in-failing-attempt') return true
    const seen = (perAttempt.get(j.attempt as string) ?? 0) + 1
    perAttempt.set(j.attempt as string, seen)
    return seen > 1
  })
}

export function describeOverlap(j: JudgedOverlap): string {
  const o = j.overlap
  const what = {
    'across-revisions': 'OVERLAP across revisions',
    'outside-a-failing-attempt': 'OVERLAP outside a failing attempt',
    'replacement-in-failing-attempt': `ECS replacing a failed task during "${j.attempt}", cut short`,
  }[j.kind]
  const volumes = (o.volumes ?? [{ volume: o.volume }]).map((v) => v.volume).join(', ')
  return `${what}: ${volumes}, ${o.ms} ms from ${o.from}: ${o.tasks.map((t) => `${t.taskId} (${t.taskDefinitionArn.split('/').pop()})`).join(' and ')}`
}
