import type { ServiceDefinition } from '../service.ts'

export function stsService(): ServiceDefinition {
  return {
    name: 'sts',
    protocol: 'query',
    queryVersion: '2011-06-15',
    xmlns: 'https://sts.amazonaws.com/doc/2011-06-15/',
    operations: {
      GetCallerIdentity: (_input, ctx) => ({
        UserId: ctx.caller,
        Account: ctx.accountId,
        Arn: `arn:aws:iam::${ctx.accountId}:user/${ctx.caller}`,
      }),
    },
  }
}
