import { afterAll, beforeAll } from '@jest/globals'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { untagRegistryImages } from './images.ts'

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
    untagRegistryImages(holder.current?.registryHost)
    await holder.current?.stop()
    rmSync(holder.stateDir, { recursive: true, force: true })
  })
  return holder
}

/** A fresh Docker client config directory, so logins in one test never leak into another. */
export function dockerConfigDir(): string {
  return mkdtempSync(join(tmpdir(), 'docker-config-'))
}
