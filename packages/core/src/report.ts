import * as core from '@actions/core'
import { redact } from './secrets.ts'
import { formatDuration } from './time.ts'

export type PhaseStatus = 'succeeded' | 'failed' | 'cancelled' | 'skipped'

export interface PhaseRecord {
  name: string
  status: PhaseStatus
  startedAt: Date
  ms: number
  note?: string
}

interface Section {
  title: string
  body: string
  /** Shown as preformatted text (logs, events) rather than markdown. */
  preformatted: boolean
  open: boolean
}

const STATUS_ICON: Record<PhaseStatus, string> = {
  succeeded: '✅',
  failed: '❌',
  cancelled: '⛔',
  skipped: '⏭️',
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/**
 * What one action tells the job summary: a headline, the facts a reader needs (image, revision,
 * digest...), a timeline of its phases, and detail sections (container logs, service events).
 * Written once, at the end, with every registered secret redacted.
 */
export class Report {
  headline = ''
  readonly facts: [string, string][] = []
  readonly phases: PhaseRecord[] = []
  readonly sections: Section[] = []

  readonly action: string

  constructor(action: string) {
    this.action = action
  }

  fact(label: string, value: string | number | undefined): void {
    if (value === undefined || value === '') return
    const existing = this.facts.find(([name]) => name === label)
    if (existing) existing[1] = String(value)
    else this.facts.push([label, String(value)])
  }

  section(title: string, body: string, options: { preformatted?: boolean; open?: boolean } = {}): void {
    this.sections.push({
      title,
      body,
      preformatted: options.preformatted ?? true,
      open: options.open ?? false,
    })
  }

  phase(record: PhaseRecord): void {
    this.phases.push(record)
  }

  toMarkdown(outcome: { ok: boolean; error?: string; hint?: string }): string {
    const parts: string[] = []
    const icon = outcome.ok ? '✅' : '❌'
    const headline = outcome.ok ? this.headline || 'succeeded' : 'failed'
    parts.push(`### ${icon} ${this.action}: ${escapeHtml(headline)}\n`)
    if (!outcome.ok && outcome.error) {
      parts.push(`> [!CAUTION]\n${quote(outcome.error)}\n`)
      if (outcome.hint) parts.push(`**What to do:** ${escapeHtml(outcome.hint)}\n`)
    }
    if (this.facts.length > 0) {
      const rows = this.facts.map(
        ([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td><code>${escapeHtml(v)}</code></td></tr>`,
      )
      parts.push(`<table>${rows.join('')}</table>\n`)
    }
    if (this.phases.length > 0) {
      const withNotes = this.phases.some((p) => p.note)
      const rows = this.phases.map((p) => {
        const cells = [
          `${STATUS_ICON[p.status]} ${p.name}`,
          p.startedAt.toISOString().slice(11, 19),
          formatDuration(p.ms),
        ]
        if (withNotes) cells.push(p.note ? escapeHtml(p.note) : '')
        return `| ${cells.join(' | ')} |`
      })
      const header = withNotes
        ? '| Phase | Started (UTC) | Took | Note |\n|---|---|---|---|'
        : '| Phase | Started (UTC) | Took |\n|---|---|---|'
      parts.push(`${header}\n${rows.join('\n')}\n`)
    }
    for (const s of this.sections) {
      const body = s.preformatted ? `<pre>${escapeHtml(s.body)}</pre>` : s.body
      parts.push(
        `<details${s.open ? ' open' : ''}><summary>${escapeHtml(s.title)}</summary>\n\n${body}\n\n</details>\n`,
      )
    }
    return redact(parts.join('\n'))
  }

  /** Appends to GITHUB_STEP_SUMMARY; without one (a local run) there is nowhere to write. */
  async write(outcome: { ok: boolean; error?: string; hint?: string }): Promise<void> {
    if (!process.env.GITHUB_STEP_SUMMARY) return
    // A step that succeeded with nothing to say (a post step's cleanup) leaves the summary alone.
    if (outcome.ok && !this.headline && this.facts.length + this.phases.length + this.sections.length === 0)
      return
    await core.summary.addRaw(this.toMarkdown(outcome), true).write()
  }
}

function quote(text: string): string {
  return text
    .split('\n')
    .map((line) => `> ${escapeHtml(line)}`)
    .join('\n')
}
