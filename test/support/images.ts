import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '@ecs-lockstep/action-runner'

/** Path of a static busybox (Debian busybox-static): the only userland our FROM scratch images have. */
export function busyboxPath(): string {
  return execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim()
}

const contexts: string[] = []
const images = new Set<string>()
// Build contexts and the images a test file built go when that file ends: nothing is left in the
// temp directory or the Docker engine. (Jest's global afterAll; the campaign imports this module
// outside Jest and cleans up itself.)
const jestAfterAll = (globalThis as { afterAll?: (fn: () => void) => void }).afterAll
jestAfterAll?.(() => {
  for (const dir of contexts.splice(0)) rmSync(dir, { recursive: true, force: true })
  removeRegisteredImages()
})

/**
 * Removes the images registered with removeAfterAll that no container uses any more. Without
 * --force: forcing untags an image a task still runs and leaves it dangling. A file whose
 * ecs-local still runs tasks calls this again after stopping it (its harness does).
 */
export function removeRegisteredImages(): void {
  for (const ref of images) {
    const gone = spawnSync('docker', ['image', 'inspect', ref], { stdio: 'ignore' }).status !== 0
    if (gone || spawnSync('docker', ['rmi', ref], { stdio: 'ignore' }).status === 0) images.delete(ref)
  }
}

/** Images the test file builds: removed after its last test (already gone is fine). */
export function removeAfterAll(...refs: string[]): void {
  for (const ref of refs) images.add(ref)
}

/**
 * Copies test/fixtures/images/<name> to a fresh build context with busybox beside its Dockerfile;
 * removed after the test file's last test.
 */
export function buildContext(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ctx-${name}-`))
  contexts.push(dir)
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
  // One at a time, tolerating those already gone (ecs-local's stop removes what it pulled).
  for (const ref of refs) spawnSync('docker', ['rmi', ref], { stdio: 'ignore' })
}
