import * as log from '@ecs-lockstep/core/log'
import {
  ActionError,
  CancelledError,
  describeInputProblem,
  formatDuration,
  readInputs,
  runAction,
  WaitTimeoutError,
} from '@ecs-lockstep/core'
import { regionCheck, resolveRegion } from '@ecs-lockstep/core/aws/region'
import { inputs, type Output } from './inputs.ts'

/** Time ECS gets to stop the task after a timeout: its containers' longest stop timeout and then some. */
const STOP_AFTER_TIMEOUT_MS = 150_000

/**
 * Run a one-off task (clear the databases, a migration, an import) to its end and judge it by its
 * essential containers' exit codes; refuse to start it beside a live task on its single-writer
 * volumes. The step's entry point (index.ts), and callable in-process (tests, @github/local-action).
 */
export async function run(): Promise<void> {
  const startedAt = Date.now()
  await runAction<Output>(
    'run-task',
    async (ctx) => {
      const given = readInputs(inputs, [
        regionCheck,
        (values) => [
          values.launchType && values.capacityProvider
            ? describeInputProblem(
                'capacity-provider',
                values.capacityProvider,
                'launch-type and capacity-provider exclude each other: ECS takes one or the other',
              )
            : undefined,
        ],
      ])
      const region = resolveRegion(given.awsRegion)
      // The AWS SDK loads only once the inputs are known to be good: a typo fails in milliseconds.
      const oneOff = await import('./one-off.ts')
      const clients = oneOff.createOneOffClients(region)
      const deadline = startedAt + given.timeout
      const request = {
        cluster: given.cluster,
        taskDefinition: given.taskDefinition,
        service: given.service,
        containerOverrides: given.containerOverrides,
        launchType: given.launchType,
        capacityProvider: given.capacityProvider,
        networkConfiguration: given.networkConfiguration,
        requireDrained: given.requireDrained,
      }

      const plan = await ctx.phase('Plan', async () => {
        const plan = await oneOff.planOneOff(clients, request)
        const name = plan.definition.taskDefinitionArn?.split('/').pop() ?? given.taskDefinition
        const how = plan.launch.capacityProviderStrategy?.[0]?.capacityProvider ?? plan.launch.launchType
        log.info(
          `Task definition ${name} on ${how}${plan.service && !given.networkConfiguration ? `, network configuration of service ${plan.service.serviceName}` : ''}.`,
        )
        for (const override of given.containerOverrides)
          log.info(
            `Container ${override.name}: ${override.command ? `command overridden (${override.command.length} argument(s))` : 'command as defined'}${override.environment ? `, ${override.environment.length} environment variable(s) overridden` : ''}.`,
          )
        if (!plan.requireDrained) {
          log.info(
            given.requireDrained === 'false'
              ? 'require-drained is false: not checking whether other tasks hold its volumes.'
              : 'It mounts no EFS volume: nothing to drain first (require-drained: auto).',
          )
          return plan
        }
        const holders = await oneOff.findHolders(clients, given.cluster, plan)
        if (holders.length > 0) throw oneOff.holdersError(holders, plan)
        log.info(
          `Nothing else holds its volumes${plan.fileSystems.length ? ` (${plan.fileSystems.join(', ')})` : ''}${plan.service ? `, and service ${plan.service.serviceName} has no task that is not STOPPED` : ''}.`,
        )
        return plan
      })
      ctx.report.fact('Task definition', plan.definition.taskDefinitionArn?.split('/').pop())

      const budget = oneOff.createBudget(deadline, ctx.signal)
      const started = await ctx.phase('Start', async () => {
        const task = await oneOff.startOneOff(clients, request, plan)
        const arn = task.taskArn as string
        ctx.output('task-arn', arn)
        ctx.report.fact('Task', arn.split('/').pop())
        log.info(`Started task ${arn.split('/').pop()} (${task.lastStatus}).`)
        if (!given.wait) return task
        // From here a kill before the end leaves the post step to stop it.
        oneOff.saveOneOffState({ cluster: given.cluster, region, taskArn: arn })
        if (plan.requireDrained) {
          // Something may have started between the check and the start: the one-off task gives way.
          const holders = await oneOff.findHolders(clients, given.cluster, plan, arn)
          if (holders.length > 0) {
            const { line } = await oneOff.stopAndConfirm(
              clients,
              given.cluster,
              arn,
              'ecs-lockstep run-task: another task holds its volumes',
              Date.now() + STOP_AFTER_TIMEOUT_MS,
              budget,
            )
            oneOff.clearOneOffState()
            throw new ActionError(
              `${holders.map(oneOff.describeHolder).join('; ')} appeared while the task was starting, so it was stopped before it could open its files. ${line}.`,
              {
                hint: 'Something else started the service meanwhile; make sure it stays at 0 tasks, then run this step again.',
              },
            )
          }
        }
        return task
      })
      const arn = started.taskArn as string
      if (!given.wait) {
        ctx.report.headline = `started ${arn.split('/').pop()} (not waiting for it to finish)`
        return
      }

      const watch =
        plan.requireDrained && plan.service ? { service: plan.service.serviceName as string } : undefined
      let stopped
      try {
        stopped = await ctx.phase('Wait until it has stopped', () =>
          oneOff.waitUntilStopped(clients, given.cluster, arn, budget, watch),
        )
      } catch (error) {
        const why =
          error instanceof oneOff.ServiceStartedError
            ? 'another task started on its volumes'
            : ctx.signal.aborted
              ? 'the workflow was cancelled'
              : `the step's timeout (${formatDuration(given.timeout)}) passed`
        if (
          !(error instanceof oneOff.ServiceStartedError) &&
          !ctx.signal.aborted &&
          !(error instanceof WaitTimeoutError)
        )
          throw error
        log.warning(`Stopping task ${arn.split('/').pop()}: ${why}.`)
        // After a cancel the runner kills the step at killAt; the post step finishes what is left.
        const until = ctx.cancellation.killAt
          ? ctx.cancellation.killAt - 1000
          : Date.now() + STOP_AFTER_TIMEOUT_MS
        const { stopped: isStopped, line } = await oneOff.stopAndConfirm(
          clients,
          given.cluster,
          arn,
          `ecs-lockstep run-task: ${why}`,
          until,
          budget,
        )
        if (isStopped) oneOff.clearOneOffState()
        const message = `${error instanceof oneOff.ServiceStartedError ? `${error.message} ` : ''}The task was stopped because ${why}: ${line}.`
        if (ctx.signal.aborted) throw new CancelledError('waiting for the one-off task', message)
        throw new ActionError(message, {
          hint: isStopped
            ? 'Its work may be half done: check its log above before running it again.'
            : `It is still stopping; wait until it is STOPPED (aws ecs describe-tasks --cluster ${given.cluster} --tasks ${arn}) before starting anything on its volumes.`,
        })
      }
      oneOff.clearOneOffState()

      const result = oneOff.judgeOneOff(stopped, plan.definition)
      if (result.exitCode !== undefined) ctx.output('exit-code', result.exitCode)
      ctx.output('stopped-reason', stopped.stoppedReason ?? '')
      const took =
        stopped.stoppedAt && stopped.createdAt
          ? stopped.stoppedAt.getTime() - stopped.createdAt.getTime()
          : undefined
      ctx.report.fact('Exit code', result.exitCode === undefined ? 'none' : String(result.exitCode))
      ctx.report.fact('Stopped reason', stopped.stoppedReason)
      if (took !== undefined) ctx.report.fact('Ran for', formatDuration(took))

      // Each container's tail in a group of its own (the runner does not nest groups).
      const tails = await oneOff.printLogTails(clients, stopped, plan.definition)
      if (result.failures.length > 0) {
        for (const tail of tails) ctx.report.section(tail.title, tail.lines)
        throw new ActionError(
          `Task ${arn.split('/').pop()} failed: ${result.failures.join('; ')}. Stopped reason: ${stopped.stoppedReason ?? 'none given'}.`,
          {
            hint: 'Its log tail is above (and in the job summary). The task is STOPPED: nothing of it is left running.',
          },
        )
      }
      log.info(`Task ${arn.split('/').pop()} finished: every essential container exited 0.`)
      ctx.report.headline = `task ${arn.split('/').pop()} exited 0`
    },
    { inputs },
  )
}
