import { describeInputProblem, readInputs, runAction } from '@ecs-lockstep/core'
import { regionCheck, resolveRegion } from '@ecs-lockstep/core/aws/region'
import { weakPasswordProblems } from './checks.ts'
import { inputs, type Output } from './inputs.ts'

/** Prove the service healthy from the outside and record the revision as verified. The step's entry point (index.ts), and callable in-process (tests, @github/local-action). */
export async function run(): Promise<void> {
  const startedAt = Date.now()
  await runAction<Output>(
    'verify-health',
    async (ctx) => {
      const given = readInputs(inputs, [
        (values, failed) => [
          !failed.has('cluster') &&
          !failed.has('service') &&
          Boolean(values.cluster) !== Boolean(values.service)
            ? describeInputProblem(
                values.cluster ? 'service' : 'cluster',
                '',
                'cluster and service go together: expected both or neither',
              )
            : undefined,
          !values.url && !values.service && !failed.has('url') && !failed.has('service')
            ? describeInputProblem(
                'url',
                '',
                'expected a URL such as https://api.example.com, or cluster and service to find the load balancer',
              )
            : undefined,
        ],
        // A production API user with the seed's testpass123 is an open door: refused unless asked for.
        (values) => (values.allowWeakPasswords ? [] : weakPasswordProblems(values.createUsers)),
        (values, failed) => (values.cluster && values.service ? regionCheck(values, failed) : []),
      ])
      const users = given.createUsers
      const checks = [
        {
          name: given.healthPath,
          method: 'GET' as const,
          path: given.healthPath,
          headers: {},
          status: [given.expectStatus],
          json: [],
        },
        ...given.checks,
      ]
      const ref =
        given.cluster && given.service ? { cluster: given.cluster, service: given.service } : undefined
      const region = ref ? resolveRegion(given.awsRegion) : undefined
      // HTTP and AWS code load only once the inputs are known to be good.
      const { verifyHealth } = await import('./verify.ts')
      await verifyHealth(ctx, {
        url: given.url?.replace(/\/+$/, ''),
        ref,
        region,
        checks,
        consecutive: given.consecutive,
        stableForMs: given.stableFor,
        singleWriter: given.singleWriter,
        deadline: startedAt + given.timeout,
        users,
        registerPath: given.registerPath,
        tokenPath: given.tokenPath,
        requests: {
          registerFormat: given.registerFormat,
          tokenFormat: given.tokenFormat,
          usernameField: given.usernameField,
          passwordField: given.passwordField,
          tokenField: given.tokenField,
        },
        recordVerified: given.recordVerified,
      })
    },
    { inputs },
  )
}
