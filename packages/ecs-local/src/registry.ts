import bcrypt from 'bcryptjs'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { request } from 'undici'

export const REGISTRY_USER = 'AWS'

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ')

export interface ManifestInfo {
  digest: string
  size: number
  mediaType: string
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

export function registryBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v docker-registry || command -v registry'], {
    encoding: 'utf8',
  })
  return found.status === 0 ? found.stdout.trim() : undefined
}

/**
 * The real registry (Debian's docker-registry, distribution v2) behind ECR: htpasswd auth with one
 * password, which GetAuthorizationToken hands out as ECR does ("AWS:<password>"). Plain HTTP on
 * 127.0.0.1, which Docker accepts without TLS.
 */
export class LocalRegistry {
  readonly host: string
  readonly password: string
  private readonly process: ChildProcess

  private constructor(host: string, password: string, child: ChildProcess) {
    this.host = host
    this.password = password
    this.process = child
  }

  static async start(options: { dir: string; password?: string; port?: number }): Promise<LocalRegistry> {
    const binary = registryBinary()
    if (!binary) {
      throw new Error(
        'docker-registry is not installed (on Debian: apt-get install docker-registry); ECR needs it',
      )
    }
    const password = options.password ?? randomBytes(24).toString('base64url')
    const port = options.port ?? (await freePort())
    mkdirSync(join(options.dir, 'storage'), { recursive: true })
    writeFileSync(join(options.dir, 'htpasswd'), `${REGISTRY_USER}:${bcrypt.hashSync(password, 10)}\n`, {
      mode: 0o600,
    })
    writeFileSync(
      join(options.dir, 'config.yml'),
      [
        'version: 0.1',
        'log: { level: warn }',
        `storage: { filesystem: { rootdirectory: ${join(options.dir, 'storage')} }, delete: { enabled: true } }`,
        `http: { addr: 127.0.0.1:${port} }`,
        `auth: { htpasswd: { realm: ecs-local, path: ${join(options.dir, 'htpasswd')} } }`,
        '',
      ].join('\n'),
    )
    const child = spawn(binary, ['serve', join(options.dir, 'config.yml')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)))
    const registry = new LocalRegistry(`127.0.0.1:${port}`, password, child)
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr}`)
      if (await registry.answers()) return registry
      await new Promise((r) => setTimeout(r, 100))
    }
    child.kill()
    throw new Error(`docker-registry did not answer on ${registry.host} within 10 s: ${stderr}`)
  }

  private authorization(): string {
    return `Basic ${Buffer.from(`${REGISTRY_USER}:${this.password}`).toString('base64')}`
  }

  private async answers(): Promise<boolean> {
    try {
      const response = await request(`http://${this.host}/v2/`, {
        headers: { authorization: this.authorization() },
      })
      await response.body.dump()
      return response.statusCode === 200
    } catch {
      return false
    }
  }

  /**
   * The manifest a tag or digest points at, or undefined when the registry has none. Its size is
   * what ECR reports as imageSizeInBytes: the config and layers, as pushed (compressed).
   */
  async manifest(repository: string, reference: string): Promise<ManifestInfo | undefined> {
    const response = await request(`http://${this.host}/v2/${repository}/manifests/${reference}`, {
      headers: { authorization: this.authorization(), accept: MANIFEST_TYPES },
    })
    if (response.statusCode === 404) {
      await response.body.dump()
      return undefined
    }
    if (response.statusCode !== 200) {
      await response.body.dump()
      throw new Error(`registry answered ${response.statusCode} for ${repository}:${reference}`)
    }
    const body = (await response.body.json()) as { config?: { size?: number }; layers?: { size?: number }[] }
    const size =
      (body.config?.size ?? 0) + (body.layers ?? []).reduce((sum, layer) => sum + (layer.size ?? 0), 0)
    return {
      digest: String(response.headers['docker-content-digest']),
      size,
      mediaType: String(response.headers['content-type']),
    }
  }

  async tags(repository: string): Promise<string[]> {
    const response = await request(`http://${this.host}/v2/${repository}/tags/list`, {
      headers: { authorization: this.authorization() },
    })
    if (response.statusCode === 404) {
      await response.body.dump()
      return []
    }
    const body = (await response.body.json()) as { tags?: string[] | null }
    return body.tags ?? []
  }

  stop(): void {
    this.process.kill('SIGTERM')
  }
}
