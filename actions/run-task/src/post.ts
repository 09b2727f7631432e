import { runAction } from '@ecs-lockstep/core'
import { stopAfterInterruption } from '@ecs-lockstep/core/ecs/one-off-interrupted'

// The main step stops the task itself when cancelled; this covers it being killed first.
await runAction('run-task (stop)', stopAfterInterruption)
