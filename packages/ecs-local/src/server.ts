import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CallLog } from './calls.ts'
import { AwsError } from './errors.ts'
import type { Faults } from './faults.ts'
import { encodeJson, encodeJsonError, JSON_CONTENT_TYPE } from './protocol/json.ts'
import { encodeQueryError, encodeQueryResponse, parseQueryParams } from './protocol/query.ts'
import { readCredential } from './protocol/sigv4.ts'
import type { CallContext, ServiceDefinition } from './service.ts'

export interface ServerOptions {
  services: ServiceDefinition[]
  accountId: string
  defaultRegion: string
  calls: CallLog
  faults: Faults
  /** Requests under /_ecs-local/, outside the AWS API: report, faults, health. */
  control: (method: string, path: string, body: string) => Promise<{ status: number; body: unknown }>
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

interface Reply {
  status: number
  contentType: string
  body: string
  errorType?: string
}

/**
 * One HTTP endpoint for every service, as AWS_ENDPOINT_URL expects: JSON services are routed by
 * X-Amz-Target, query services (STS, ELBv2) by the SigV4 credential scope (or, unsigned, by Version).
 */
export function createAwsServer(options: ServerOptions): Server {
  const byTarget = new Map(
    options.services.filter((s) => s.jsonTarget).map((s) => [s.jsonTarget as string, s]),
  )
  const queryServices = options.services.filter((s) => s.protocol === 'query')

  async function dispatch(request: IncomingMessage, body: string, requestId: string): Promise<Reply> {
    const credential = readCredential(request.headers.authorization)
    const target = request.headers['x-amz-target']
    let service: ServiceDefinition | undefined
    let operation: string
    let input: unknown
    if (typeof target === 'string') {
      const [prefix = '', op = ''] = target.split('.')
      service = byTarget.get(prefix)
      operation = op
      input = body ? JSON.parse(body) : {}
    } else {
      const query = parseQueryParams(body)
      service =
        queryServices.find((s) => s.name === credential?.service) ??
        queryServices.find((s) => s.queryVersion === query.version)
      operation = query.action
      input = query.params
    }
    if (!service) {
      return {
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({
          message: `ecs-local does not serve ${target ?? credential?.service ?? 'this request'}`,
        }),
      }
    }
    const ctx: CallContext = {
      region: credential?.region ?? options.defaultRegion,
      accountId: options.accountId,
      requestId,
      caller: credential?.accessKeyId ?? 'anonymous',
    }
    const record = { at: Date.now(), caller: ctx.caller, service: service.name, operation }
    try {
      const handler = service.operations[operation]
      if (!handler) {
        throw service.protocol === 'json'
          ? new AwsError(
              'UnknownOperationException',
              `ecs-local does not implement ${service.name}:${operation}`,
            )
          : new AwsError(
              'InvalidAction',
              `Could not find operation ${operation} for version ${service.queryVersion}`,
            )
      }
      options.faults.beforeCall(service.name, operation)
      const result = await handler(input, ctx)
      options.calls.add(record)
      return service.protocol === 'json'
        ? { status: 200, contentType: JSON_CONTENT_TYPE, body: encodeJson(result) }
        : {
            status: 200,
            contentType: 'text/xml',
            body: encodeQueryResponse(operation, service.xmlns ?? '', result, requestId),
          }
    } catch (error) {
      const awsError =
        error instanceof AwsError
          ? error
          : new AwsError('ServerException', `ecs-local failed: ${(error as Error).message}`, 500)
      if (!(error instanceof AwsError)) console.error(error)
      options.calls.add({ ...record, error: awsError.code })
      return service.protocol === 'json'
        ? {
            status: awsError.status,
            contentType: JSON_CONTENT_TYPE,
            body: encodeJsonError(awsError),
            errorType: awsError.code,
          }
        : { status: awsError.status, contentType: 'text/xml', body: encodeQueryError(awsError, requestId) }
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID()
    const body = await readBody(request)
    const url = new URL(request.url ?? '/', 'http://localhost')
    let reply: Reply
    if (url.pathname.startsWith('/_ecs-local/')) {
      const result = await options.control(
        request.method ?? 'GET',
        url.pathname.slice('/_ecs-local'.length),
        body,
      )
      reply = {
        status: result.status,
        contentType: 'application/json',
        body: JSON.stringify(result.body, null, 2),
      }
    } else {
      reply = await dispatch(request, body, requestId)
    }
    response.writeHead(reply.status, {
      'content-type': reply.contentType,
      'x-amzn-requestid': requestId,
      ...(reply.errorType ? { 'x-amzn-errortype': reply.errorType } : {}),
    })
    response.end(reply.body)
  }

  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ message: (error as Error).message }))
    })
  })
}

export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return (server.address() as AddressInfo).port
}
