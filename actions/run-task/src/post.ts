import { runAction } from '@ecs-lockstep/core'
import { stopAfterInterruption } from '@ecs-lockstep/ecs-deploy'

// The main step stops the task itself when cancelled; this covers it being killed first.
await runAction('run-task (stop)', async (ctx) => {
  const stopped = await stopAfterInterruption(ctx.signal)
  if (!stopped) return
  ctx.report.headline = `stopped the one-off task ${stopped.taskId}`
  ctx.report.fact('State after the stop', stopped.state)
})
