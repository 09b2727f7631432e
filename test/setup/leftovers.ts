// The suite's own check that it leaves nothing behind: Jest's globalSetup records Docker's
// containers, images, networks and volumes and the temp directory (scripts/leftovers.sh); its
// globalTeardown compares, prints what the run left, and makes the run fail (exit code 1). .ci/run
// makes the same check around the whole command.
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'leftovers.sh')
const SNAPSHOT = join(tmpdir(), `ecs-lockstep-leftovers-${process.pid}`)

function dockerReachable(): boolean {
  return (
    spawnSync('docker', ['info', '--format', '{{.ID}}'], { stdio: 'ignore', timeout: 10_000 }).status === 0
  )
}

export function snapshot(): void {
  if (!dockerReachable()) return
  spawnSync('bash', [SCRIPT, 'snapshot', SNAPSHOT], { stdio: 'inherit' })
}

export function compare(): void {
  if (!dockerReachable()) return
  const result = spawnSync('bash', [SCRIPT, 'compare', SNAPSHOT], { encoding: 'utf8' })
  rmSync(SNAPSHOT, { force: true })
  process.stderr.write(`\n${result.stdout}${result.stderr}`)
  // Jest keeps a non-zero exit code set here (it only ever raises it), and still writes its results.
  if (result.status !== 0) process.exitCode = 1
}
