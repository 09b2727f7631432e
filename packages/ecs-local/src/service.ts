/** What every handler knows about the call it serves. */
export interface CallContext {
  region: string
  accountId: string
  requestId: string
  /** The caller's access key id, for the per-caller list of AWS actions used. */
  caller: string
}

// Handlers take the SDK's input shapes; each service validates what it reads.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (input: any, ctx: CallContext) => unknown

export interface ServiceDefinition {
  /** The SigV4 signing name: ecs, ecr, logs, sts, elasticloadbalancing. */
  name: string
  protocol: 'json' | 'query'
  /** awsJson1_1: the X-Amz-Target prefix before the dot. */
  jsonTarget?: string
  /** awsQuery: the API version and the XML namespace of replies. */
  queryVersion?: string
  xmlns?: string
  operations: Record<string, Handler>
}
