import { inputError, readInputs, runAction } from '@ecs-lockstep/core'
import { resolveRegion } from '@ecs-lockstep/core/aws/region'
import { inputs, type Output } from './inputs.ts'

/** Push the image to ECR under each tag and read its digest back. The step's entry point (index.ts), and callable in-process (tests, @github/local-action). */
export async function run(): Promise<void> {
  await runAction<Output>('push-ecr', async (ctx) => {
    const given = readInputs(inputs)
    const sha = process.env.GITHUB_SHA
    const tags = given.tags.length > 0 ? given.tags : sha ? [sha, 'latest'] : []
    if (tags.length === 0)
      throw inputError('tags', '', 'no tags given and GITHUB_SHA is not set: expected at least one tag')
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
  })
}
