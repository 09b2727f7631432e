import { randomBytes, randomInt } from 'node:crypto'

export function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length)
}

/** Task ids are 32 hex digits, as in `arn:aws:ecs:...:task/cluster/0123...`. */
export const newTaskId = () => randomHex(32)

/** Deployment ids look like `ecs-svc/1234567890123456789`: 19 digits. */
export function newDeploymentId(): string {
  let digits = String(randomInt(1, 10))
  while (digits.length < 19) digits += String(randomInt(0, 10))
  return `ecs-svc/${digits}`
}

/** The 16 hex digits that end ELB ARNs. */
export const newElbId = () => randomHex(16)

export const ecsArn = (region: string, account: string, resource: string) =>
  `arn:aws:ecs:${region}:${account}:${resource}`

export const elbArn = (region: string, account: string, resource: string) =>
  `arn:aws:elasticloadbalancing:${region}:${account}:${resource}`

/** The region and account of an ARN, or undefined when it is not one. */
export function parseArn(
  arn: string,
): { service: string; region: string; account: string; resource: string } | undefined {
  const match = /^arn:aws[\w-]*:([\w-]+):([\w-]*):(\d*):(.+)$/.exec(arn)
  if (!match) return undefined
  const [, service, region, account, resource] = match as unknown as [string, string, string, string, string]
  return { service, region, account, resource }
}
