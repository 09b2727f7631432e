import { describe, expect, it, jest } from '@jest/globals'
import { REPO_ROOT } from '@ecs-lockstep/action-runner'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

jest.setTimeout(600_000)

/** The README's first command, `npm run pipeline`, as a user runs it (the bundles are already built). */
function pipeline(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'pipeline.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('close', (code) => resolve({ code, output }))
  })
}

describe('npm run pipeline', () => {
  it('runs the seed pipeline on real containers: build, smoke-test, push, deploy, verify, broken deploy, rollback', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pipeline-'))
    try {
      const { code, output } = await pipeline({ PIPELINE_OUTPUT: out })
      expect(output).toContain('Docker runtime (tasks are real containers)')
      for (const step of [
        '✔ Build and smoke-test',
        '✔ Push to ECR',
        '✔ Drain and deploy',
        '✔ Verify health, create API users',
        '✔ failed as expected: Smoke-test a broken build',
        '✔ failed as expected: Deploy the broken build',
        '✔ Roll back',
        '✔ Verify the rolled-back revision',
      ]) {
        expect(output).toContain(step)
      }
      expect(output).toMatch(/Invariant monitor \(docker runtime\): \d+ task lifetimes recorded/)
      expect(output).not.toContain('OVERLAP')
      expect(output).toContain('Everything behaved.')
      expect(code).toBe(0)
      const summaries = readdirSync(join(out, 'summaries'))
      expect(summaries).toEqual(expect.arrayContaining(['04-drain-and-deploy.md', '09-rollback.md']))
      expect(readFileSync(join(out, 'summaries', '09-rollback.md'), 'utf8')).toMatch(
        /rollback: rolled back from wwhd-backend:3 to wwhd-backend:2/,
      )
      expect(existsSync(join(out, 'ecs-local-report.json'))).toBe(true)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })

  it('without Docker, says what it skipped, never as a pass, and numbers the summaries of what ran from 01', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pipeline-'))
    try {
      const { code, output } = await pipeline({ PIPELINE_OUTPUT: out, ECS_LOCAL_RUNTIME: 'simulated' })
      expect(output).toContain('SIMULATED runtime (ECS_LOCAL_RUNTIME=simulated)')
      expect(output).toMatch(/– Build and smoke-test +0\.0s {2}skipped: simulated runtime/)
      expect(output).not.toMatch(/✔ Build and smoke-test/)
      expect(output).toContain('Everything behaved.')
      expect(code).toBe(0)
      const summaries = readdirSync(join(out, 'summaries')).sort()
      expect(summaries[0]).toBe('01-drain-and-deploy.md')
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })
})
