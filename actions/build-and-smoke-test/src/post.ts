import * as core from '@actions/core'
import * as log from '@ecs-lockstep/core/log'
import { runAction } from '@ecs-lockstep/core'
import { removeContainer } from '@ecs-lockstep/core/docker'
import { CONTAINER_STATE } from './state.ts'

// The main step removes its container itself; this catches the case where it was killed first.
await runAction('build-and-smoke-test (cleanup)', async () => {
  const id = core.getState(CONTAINER_STATE)
  if (id && (await removeContainer(id)))
    log.info(`Removed test container ${id.slice(0, 12)} left by the main step.`)
})
