import * as log from '@ecs-lockstep/core/log'
import { readInputs, runAction } from '@ecs-lockstep/core'
import type { DeployRequest } from '@ecs-lockstep/ecs-deploy'
import { regionCheck, resolveRegion } from '@ecs-lockstep/core/aws/region'
import { inputs, type Output } from './inputs.ts'

/** Put the service back on the last verified revision, the lock-safe way. The step's entry point (index.ts), and callable in-process (tests, @github/local-action). */
export async function run(): Promise<void> {
  const startedAt = Date.now()
  await runAction<Output>(
    'rollback',
    async (ctx) => {
      const given = readInputs(inputs, [regionCheck])
      const region = resolveRegion(given.awsRegion)
      // The AWS SDK loads only once the inputs are known to be good: a typo fails in milliseconds.
      const {
        chooseRollbackTarget,
        createClients,
        deploy,
        describeService,
        reportingEngine,
        reportOutcome,
        sharedRequestFields,
      } = await import('../../shared/deploying.ts')
      const clients = createClients(region)
      const ref = { cluster: given.cluster, service: given.service }

      const target = await ctx.phase('Choose revision', async () => {
        const service = await describeService(clients, ref)
        const chosen = await chooseRollbackTarget(clients, service, given.to)
        log.info(
          `Rolling ${given.service} back from ${chosen.failingArn.split('/').pop()} to ${chosen.arn.split('/').pop()}: ${chosen.reason}.`,
        )
        if (given.reason) log.info(`Reason: ${given.reason}`)
        return chosen
      })
      ctx.output('rolled-back-from', target.failingArn)
      ctx.report.fact('Rolled back from', target.failingArn.split('/').pop())
      if (given.reason) ctx.report.fact('Reason', given.reason)
      ctx.report.fact('Why this revision', target.reason)

      // rolled-back-from is the failed revision, which need not be the one the service runs now.
      const engine = reportingEngine(ctx, { next: 'rolled-back-to', deployment: 'deployment-id' })
      const request: DeployRequest = {
        ref,
        region,
        definition: { kind: 'existing', arn: target.arn },
        ...sharedRequestFields(given, startedAt),
        // The deployment in progress is usually the failing one being rolled back.
        ifDeploymentInProgress: 'proceed',
        purpose: 'rollback',
      }
      const outcome = await deploy(engine, clients, request)
      reportOutcome(ctx.report, request, outcome)
      ctx.report.headline = `rolled back from ${target.failingArn.split('/').pop()} to ${outcome.taskDefinitionArn.split('/').pop()}`
    },
    { inputs },
  )
}
