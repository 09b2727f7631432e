import * as core from '@actions/core'
import * as log from '@ecs-lockstep/core/log'
import { runAction } from '@ecs-lockstep/core'
import { docker } from '@ecs-lockstep/core/docker'
import { LOGGED_IN_REGISTRY } from './state.ts'

// Logged in for the whole job (later steps may pull), logged out when it ends.
await runAction('push-ecr (logout)', async () => {
  const registry = core.getState(LOGGED_IN_REGISTRY)
  if (!registry) return
  const result = await docker(['logout', registry], { silent: true, allowFailure: true })
  if (result.exitCode === 0) log.info(`Logged out of ${registry}.`)
  else log.warning(`docker logout ${registry} failed: ${result.stderr.trim()}`)
})
