import { expect, it, jest } from '@jest/globals'
import { runCampaign } from '../../campaign/campaign.ts'

jest.setTimeout(20 * 60_000)

/**
 * The quick variant of the fault campaign (`npm run campaign` runs as many as you ask): seeded runs
 * of the reference workflow's logic, each action bundled and run as the runner runs it, under
 * random throttling, 5xx, launch failures, a new image that crashes after turning healthy or never
 * does, an old task that stops slowly or ignores SIGTERM, short timeouts and cancels at random
 * moments. Each run must end healthy on the new revision, healthy on the previous one after a
 * rollback (or restore), or with a message whose state matches ECS's; never two revisions on a
 * volume at once, and at most one overlap of a failed task with ECS's replacement per failed step.
 */
const RUNS = Number(process.env.CAMPAIGN_RUNS ?? 50)
const SEED_START = Number(process.env.CAMPAIGN_SEED_START ?? 1)

it(`${RUNS} seeded runs under random faults and cancels end as the suite promises`, async () => {
  const seeds = Array.from({ length: RUNS }, (_, i) => SEED_START + i)
  const report = await runCampaign(seeds, { concurrency: 3 })
  const broken = report.results
    .filter((r) => !r.ok)
    .map((r) => `seed ${r.seed} (npm run campaign -- --seed ${r.seed}): ${r.problems.join('; ')}`)
  expect(broken).toEqual([])
  expect(report.overlaps['across-revisions']).toBe(0)
  expect(report.overlaps['outside-a-failing-attempt']).toBe(0)
  // The faults bit: every kind of ending the promise allows was reached.
  expect(Object.keys(report.outcomes)).toEqual(
    expect.arrayContaining(['deployed', 'rolled-back', 'cancelled-restored']),
  )
})
