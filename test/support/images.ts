import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '@ecs-lockstep/action-runner'

/** Path of a static busybox (Debian busybox-static): the only userland our FROM scratch images have. */
export function busyboxPath(): string {
  return execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim()
}

/** Copies test/fixtures/images/<name> to a fresh build context with busybox beside its Dockerfile. */
export function buildContext(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ctx-${name}-`))
  cpSync(join(REPO_ROOT, 'test', 'fixtures', 'images', name), dir, { recursive: true })
  cpSync(busyboxPath(), join(dir, 'busybox'))
  return dir
}

/** Containers carrying the smoke-test label for this run, running or not. */
export function containersLabelled(label: string): string[] {
  const out = execFileSync('docker', ['ps', '--all', '--quiet', '--filter', `label=${label}`], {
    encoding: 'utf8',
  })
  return out.split('\n').filter(Boolean)
}

/** Untags every local image tagged for `registryHost` (the layers stay if other tags use them). */
export function untagRegistryImages(registryHost: string | undefined): void {
  if (!registryHost) return
  const refs = execFileSync('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((ref) => ref.startsWith(`${registryHost}/`))
  if (refs.length > 0) execFileSync('docker', ['rmi', ...refs], { stdio: 'ignore' })
}
