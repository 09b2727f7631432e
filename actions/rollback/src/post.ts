import { runAction } from '@ecs-lockstep/core'
import { restoreAfterInterruption } from '@ecs-lockstep/ecs-deploy/after-kill'

// The main step restores the service itself when cancelled; this covers it being killed first.
await runAction('rollback (restore)', async (ctx) => {
  const restored = await restoreAfterInterruption(ctx.signal)
  if (!restored) return
  ctx.report.headline = `restored ${restored.service} to ${restored.revision} at ${restored.desiredCount} task(s)`
  ctx.report.fact('State after the restore', restored.state)
})
