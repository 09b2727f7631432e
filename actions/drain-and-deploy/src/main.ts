import {
  looksLikeCredential,
  maskSecretValues,
  readInputs,
  runAction,
  toSeconds,
  valueLooksLikeCredential,
} from '@ecs-lockstep/core'
import * as log from '@ecs-lockstep/core/log'
import { regionCheck, resolveRegion } from '@ecs-lockstep/core/aws/region'
import type { DeployRequest } from '@ecs-lockstep/ecs-deploy'
import { inputs, type Output } from './inputs.ts'

/** Deploy a revision without ever running two tasks at once on a single-writer service. The step's entry point (index.ts), and callable in-process (tests, @github/local-action). */
export async function run(): Promise<void> {
  const startedAt = Date.now()
  await runAction<Output>(
    'drain-and-deploy',
    async (ctx) => {
      const given = readInputs(inputs, [regionCheck])
      maskSecretValues(given.environmentVariables)
      const credentials = Object.entries(given.environmentVariables).filter(
        ([key, value]) => looksLikeCredential(key) || valueLooksLikeCredential(value),
      )
      for (const [key] of credentials) {
        log.warning(
          `environment-variables sets ${key}, which looks like a credential: a plain environment value is readable by anyone who can describe the task definition. Put it in Secrets Manager or SSM and pass its ARN in \`secrets\` (${key}=arn:aws:secretsmanager:…).`,
        )
      }
      const region = resolveRegion(given.awsRegion)
      // The AWS SDK loads only once the inputs are known to be good: a typo fails in milliseconds.
      const { createClients, deploy, reportingEngine, reportOutcome, sharedRequestFields } =
        await import('../../shared/deploying.ts')
      const engine = reportingEngine(ctx, {
        previous: 'previous-task-definition-arn',
        next: 'task-definition-arn',
        deployment: 'deployment-id',
      })
      const request: DeployRequest = {
        ref: { cluster: given.cluster, service: given.service },
        region,
        definition: {
          kind: 'render',
          reference: given.taskDefinition,
          containerName: given.containerName,
          image: given.image,
          environment: given.environmentVariables,
          secrets: given.secrets,
        },
        ...sharedRequestFields(given, startedAt),
        ifDeploymentInProgress: given.ifDeploymentInProgress,
        purpose: 'deploy',
      }
      const outcome = await deploy(engine, createClients(region), request)
      reportOutcome(ctx.report, request, outcome)
      ctx.output('task-arns', outcome.taskArns)
      ctx.output('drain-seconds', toSeconds(outcome.drainMs))
      ctx.output('start-seconds', toSeconds(outcome.startMs))
      ctx.output('downtime-seconds', outcome.downtimeMs === undefined ? '' : toSeconds(outcome.downtimeMs))
      ctx.report.headline = `${outcome.taskDefinitionArn.split('/').pop()} is ${given.waitFor === 'none' ? 'deploying' : given.waitFor}`
    },
    { inputs },
  )
}
