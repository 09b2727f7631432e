import * as core from '@actions/core'
import * as log from '@ecs-lockstep/core/log'
import { ActionError } from '@ecs-lockstep/core/errors'
import { createBudget } from './budget.ts'
import { createOneOffClients, ONE_OFF_STATE, stopAndConfirm } from './one-off.ts'

/** Time the post step gives ECS to stop the task: a container's stop timeout is at most 120 s. */
const POST_STOP_MS = 5 * 60_000

/**
 * Post step of run-task: when the main step was killed (or ran out of time) before it saw its
 * task STOPPED, stop the task here and wait until it is, so nothing started after this job finds
 * the one-off task still holding the volumes. Returns the task's id and state, or undefined when
 * there was nothing to do.
 */
export async function stopAfterInterruption(
  signal: AbortSignal,
): Promise<{ taskId: string; state: string } | undefined> {
  const saved = core.getState(ONE_OFF_STATE)
  if (!saved) return undefined
  const point = JSON.parse(saved) as { cluster: string; region: string; taskArn: string }
  const id = point.taskArn.split('/').pop()
  log.warning(`The main step ended before task ${id} had stopped; stopping it now and waiting until it has.`)
  const clients = createOneOffClients(point.region)
  const budget = createBudget(Date.now() + POST_STOP_MS, signal)
  const { stopped, line } = await stopAndConfirm(
    clients,
    point.cluster,
    point.taskArn,
    'ecs-lockstep run-task: the job was cancelled',
    Date.now() + POST_STOP_MS,
    budget,
  )
  if (!stopped)
    throw new ActionError(`Task ${id} was asked to stop but is not STOPPED yet: ${line}.`, {
      hint: `Wait until it is STOPPED (aws ecs describe-tasks --cluster ${point.cluster} --tasks ${point.taskArn}) before starting anything on its volumes.`,
    })
  core.saveState(ONE_OFF_STATE, '')
  log.info(line)
  return { taskId: id as string, state: line }
}
