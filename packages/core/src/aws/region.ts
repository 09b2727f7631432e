import { describeInputProblem, InputError } from '../inputs.ts'

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

function regionFrom(fromInput: string | undefined): string {
  return fromInput || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || ''
}

/** The problem with the region the step would use, as an input error line; undefined when it is fine. */
export function regionProblem(fromInput: string | undefined): string | undefined {
  const region = regionFrom(fromInput)
  if (!region)
    return describeInputProblem(
      'aws-region',
      '',
      'no region given and neither AWS_REGION nor AWS_DEFAULT_REGION is set: expected a region such as us-east-1',
    )
  if (!REGION.test(region))
    return describeInputProblem('aws-region', region, 'expected a region such as us-east-1 or eu-west-2')
  return undefined
}

/** Region from the step's `aws-region`, else the variables aws-actions/configure-aws-credentials sets. */
export function resolveRegion(fromInput: string | undefined): string {
  const problem = regionProblem(fromInput)
  if (problem) throw new InputError([problem])
  return regionFrom(fromInput)
}

/** For readInputs: the region check, unless aws-region itself already failed. */
export function regionCheck<V extends { awsRegion: string | undefined }>(
  values: V,
  failed: ReadonlySet<string>,
): (string | undefined)[] {
  return failed.has('aws-region') ? [] : [regionProblem(values.awsRegion)]
}
