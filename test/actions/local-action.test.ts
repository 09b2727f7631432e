import { expect, it, jest } from '@jest/globals'
import { REPO_ROOT } from '@ecs-lockstep/action-runner'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

jest.setTimeout(120_000)

/**
 * GitHub's own local runner, @github/local-action, runs an action from its source: it imports the
 * entry module and calls its exported run(). verify-health through it, end to end, against a URL
 * where nothing listens: the step fails as it does on the runner, with its error and its output.
 */
it('runs verify-health from its source through @github/local-action', () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-action-'))
  try {
    const output = join(dir, 'output')
    writeFileSync(output, '')
    writeFileSync(
      join(dir, '.env'),
      [
        'INPUT_URL=http://127.0.0.1:9',
        'INPUT_TIMEOUT=2s',
        'INPUT_STABLE-FOR=0s',
        'INPUT_CONSECUTIVE=1',
        `GITHUB_OUTPUT=${output}`,
        `GITHUB_STEP_SUMMARY=${join(dir, 'summary')}`,
      ].join('\n'),
    )
    const result = spawnSync(
      join(REPO_ROOT, 'node_modules', '.bin', 'local-action'),
      ['run', join(REPO_ROOT, 'actions', 'verify-health'), 'src/main.ts', join(dir, '.env')],
      // Its TypeScript loader (tsx) caches in the temp directory: this test's own, removed after.
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 100_000, env: { ...process.env, TMPDIR: dir } },
    )
    const text = `${result.stdout}${result.stderr}`
    expect(text).toMatch(
      // The 2 s include tsx compiling the engine's sources on the fly, so what is left for the wait varies.
      /::error::Timed out after [\d.]+m?s waiting for every check to pass 1 time\(s\) in a row\. Last seen: GET \/health: connection refused\./,
    )
    // local-action runs the step without GITHUB_OUTPUT, so @actions/core prints the output as a command.
    expect(`${text}${readFileSync(output, 'utf8')}`).toMatch(
      /::set-output name=url::http:\/\/127\.0\.0\.1:9|^url<<.*\nhttp:\/\/127\.0\.0\.1:9$/m,
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
