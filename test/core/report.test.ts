import { describe, expect, it } from '@jest/globals'
import { maskSecret, redact, Report } from '@ecs-lockstep/core'

describe('Report', () => {
  it('renders headline, facts, timeline and sections, escaping HTML and redacting secrets', () => {
    maskSecret('s3cr3t-token-value')
    const report = new Report('push-ecr')
    report.headline = 'pushed 2 tags'
    report.fact('Image', 'repo/app:<sha>')
    report.fact('Empty', '')
    report.phase({ name: 'Push', status: 'succeeded', startedAt: new Date('2026-01-01T10:00:00Z'), ms: 1500 })
    report.section('Log', 'login with s3cr3t-token-value & go')
    const md = report.toMarkdown({ ok: true })
    expect(md).toContain('### ✅ push-ecr: pushed 2 tags')
    expect(md).toContain('<code>repo/app:&lt;sha&gt;</code>')
    expect(md).not.toContain('Empty')
    expect(md).toContain('| ✅ Push | 10:00:00 | 1.5s |')
    expect(md).toContain('<pre>login with *** &amp; go</pre>')
    expect(md).not.toContain('s3cr3t')
  })

  it('puts the error and what to do first when the step failed', () => {
    const md = new Report('drain-and-deploy').toMarkdown({
      ok: false,
      error: 'Task stopped:\nexit 1',
      hint: 'Read the logs',
    })
    expect(md).toMatch(
      /^### ❌ drain-and-deploy: failed\n\n> \[!CAUTION\]\n> Task stopped:\n> exit 1\n\n\*\*What to do:\*\* Read the logs/,
    )
  })

  it('redacts every line of a multi-line secret', () => {
    maskSecret('line-one-secret\nline-two-secret')
    expect(redact('a line-two-secret b')).toBe('a *** b')
  })
})
