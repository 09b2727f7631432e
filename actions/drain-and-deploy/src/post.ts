import { runAction } from '@ecs-lockstep/core'
import { restoreAfterInterruption } from '@ecs-lockstep/core/ecs/interrupted'

// The main step restores the service itself when cancelled; this covers it being killed first.
await runAction('drain-and-deploy (restore)', restoreAfterInterruption)
