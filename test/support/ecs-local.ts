import { afterAll, beforeAll } from '@jest/globals'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeRegisteredImages, untagRegistryImages } from './images.ts'

/**
 * Starts one ecs-local (with its registry) for the test file and stops it afterwards. Each file
 * gets its own endpoint, registry and state, so files never see each other's resources.
 */
export function useEcsLocal(): { readonly current: EcsLocal; readonly stateDir: string } {
  const holder = { current: undefined as unknown as EcsLocal, stateDir: '' }
  beforeAll(async () => {
    holder.stateDir = mkdtempSync(join(tmpdir(), 'ecs-local-test-'))
    holder.current = await startEcsLocal({ stateDir: holder.stateDir })
  })
  afterAll(async () => {
    const host = holder.current?.registryHost
    await holder.current?.stop()
    untagRegistryImages(host)
    removeRegisteredImages()
    rmSync(holder.stateDir, { recursive: true, force: true })
  })
  return holder
}

const configs: string[] = []
// Removed when the test file ends (Jest's global afterAll): no login is left in the temp directory.
;(globalThis as { afterAll?: (fn: () => void) => void }).afterAll?.(() => {
  for (const dir of configs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A fresh Docker client config directory, so logins in one test never leak into another. */
export function dockerConfigDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'docker-config-'))
  configs.push(dir)
  return dir
}
