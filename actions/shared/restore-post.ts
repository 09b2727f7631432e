import { runAction } from '@ecs-lockstep/core'
import { restoreAfterInterruption } from '@ecs-lockstep/ecs-deploy/after-kill'

/**
 * The post step of drain-and-deploy and rollback. The main step restores the service itself when
 * cancelled; this covers it being killed first.
 */
export async function restorePostStep(action: string): Promise<void> {
  await runAction(`${action} (restore)`, async (ctx) => {
    const restored = await restoreAfterInterruption(ctx.signal)
    if (!restored) return
    ctx.report.headline = `restored ${restored.service} to ${restored.revision} at ${restored.desiredCount} task(s)`
    ctx.report.fact('State after the restore', restored.state)
  })
}
