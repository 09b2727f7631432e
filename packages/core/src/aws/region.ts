import { inputError } from '../inputs.ts'

/** Region from the step's `aws-region`, else the variables aws-actions/configure-aws-credentials sets. */
export function resolveRegion(fromInput: string | undefined): string {
  const region = fromInput || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || ''
  if (!region) {
    throw inputError(
      'aws-region',
      '',
      'no region given and neither AWS_REGION nor AWS_DEFAULT_REGION is set: expected a region such as us-east-1',
    )
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw inputError('aws-region', region, 'expected a region such as us-east-1 or eu-west-2')
  }
  return region
}
