import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import { join } from 'node:path'
import { CallLog } from './calls.ts'
import { Faults, type FaultConfig } from './faults.ts'
import { LocalRegistry, registryBinary } from './registry.ts'
import { createAwsServer, listen } from './server.ts'
import { ecrService, initialEcrState, type EcrState } from './services/ecr.ts'
import { stsService } from './services/sts.ts'
import { Store } from './state.ts'

export const ACCOUNT_ID = '123456789012'
export const DEFAULT_REGION = 'us-east-1'

export interface EcsLocalOptions {
  /** Port of the AWS endpoint; 0 picks a free one. */
  port?: number
  /** Where state, the registry's storage and logs live; without it, nothing survives a stop. */
  stateDir?: string
  /** Start the registry behind ECR (default: when docker-registry is installed). */
  registry?: boolean
  faults?: FaultConfig
}

export interface EcsLocalState {
  ecr: EcrState
  registryPassword: string
}

export interface EcsLocal {
  endpoint: string
  registryHost: string | undefined
  accountId: string
  faults: Faults
  calls: CallLog
  /** Variables that point the AWS SDK (and so every action) at this endpoint. */
  awsEnv(region?: string): Record<string, string>
  stop(): Promise<void>
}

export async function startEcsLocal(options: EcsLocalOptions = {}): Promise<EcsLocal> {
  const stateDir = options.stateDir
  const store = new Store<EcsLocalState>(stateDir ? join(stateDir, 'state.json') : undefined, () => ({
    ecr: initialEcrState(),
    registryPassword: randomBytes(24).toString('base64url'),
  }))
  const calls = new CallLog()
  const faults = new Faults()
  if (options.faults) faults.set(options.faults)

  const wantRegistry = options.registry ?? registryBinary() !== undefined
  const registry = wantRegistry
    ? await LocalRegistry.start({
        dir: join(
          stateDir ?? join(process.env.TMPDIR ?? '/tmp', `ecs-local-${process.pid}-${Date.now()}`),
          'registry',
        ),
        password: store.data.registryPassword,
      })
    : undefined

  const server: Server = createAwsServer({
    services: [stsService(), ecrService(store, () => registry)],
    accountId: ACCOUNT_ID,
    defaultRegion: DEFAULT_REGION,
    calls,
    faults,
    control: async (method, path, body) => {
      if (path === '/health') return { status: 200, body: { ok: true } }
      if (path === '/faults' && method === 'POST') {
        faults.set(JSON.parse(body || '{}') as FaultConfig)
        return { status: 200, body: faults.config }
      }
      if (path === '/faults') return { status: 200, body: faults.config }
      if (path === '/report') return { status: 200, body: { calls: calls.byCaller() } }
      return { status: 404, body: { message: `no control endpoint ${method} ${path}` } }
    },
  })
  const port = await listen(server, options.port ?? 0)
  store.flush()
  const endpoint = `http://127.0.0.1:${port}`

  return {
    endpoint,
    registryHost: registry?.host,
    accountId: ACCOUNT_ID,
    faults,
    calls,
    awsEnv: (region = DEFAULT_REGION) => ({
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'AKIAECSLOCAL00000000',
      AWS_SECRET_ACCESS_KEY: 'ecs-local-secret-key-not-a-real-one',
    }),
    async stop() {
      store.flush()
      registry?.stop()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
}
