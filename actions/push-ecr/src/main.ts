import { describeInputProblem, readInputs, runAction } from '@ecs-lockstep/core'
import { regionCheck, resolveRegion } from '@ecs-lockstep/core/aws/region'
import { inputs, type Output } from './inputs.ts'

/** Push the image to ECR under each tag and read its digest back. The step's entry point (index.ts), and callable in-process (tests, @github/local-action). */
export async function run(): Promise<void> {
  await runAction<Output>(
    'push-ecr',
    async (ctx) => {
      const sha = process.env.GITHUB_SHA
      const given = readInputs(inputs, [
        regionCheck,
        (values, failed) => [
          values.tags.length === 0 && !sha && !failed.has('tags')
            ? describeInputProblem(
                'tags',
                '',
                'no tags given and GITHUB_SHA is not set: expected at least one tag',
              )
            : undefined,
        ],
      ])
      const tags = given.tags.length > 0 ? given.tags : [sha as string, 'latest']
      const region = resolveRegion(given.awsRegion)
      // The AWS SDK loads only once the inputs are known to be good: a typo fails in milliseconds.
      const { pushToEcr } = await import('./push.ts')
      await pushToEcr(ctx, {
        image: given.image,
        repository: given.repository,
        tags: [...new Set(tags)],
        registry: given.registry,
        createRepository: given.createRepository,
        region,
      })
    },
    { inputs },
  )
}
