import { describe, expect, it } from '@jest/globals'
import { readActionYaml, REPO_ROOT } from '@ecs-lockstep/action-runner'
import type { Input } from '@ecs-lockstep/core'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

// actions/shared holds code two actions share, not an action.
const actions = readdirSync(join(REPO_ROOT, 'actions')).filter((name) =>
  existsSync(join(REPO_ROOT, 'actions', name, 'action.yml')),
)

/**
 * action.yml is what the runner and users read; src/inputs.ts is what the code parses. They must
 * agree on every input, its default and whether it is required, or the README lies.
 */
describe.each(actions)('actions/%s', (action) => {
  it('declares in action.yml exactly the inputs its code reads, with the same defaults', async () => {
    const { inputs } = (await import(join(REPO_ROOT, 'actions', action, 'src', 'inputs.ts'))) as {
      inputs: Record<string, Input<unknown>>
    }
    const yaml = readActionYaml(action)
    expect(Object.keys(yaml.inputs ?? {}).sort()).toEqual(Object.keys(inputs).sort())
    for (const [name, spec] of Object.entries(inputs)) {
      const declared = yaml.inputs?.[name]
      expect({ name, default: declared?.default ?? '', required: declared?.required ?? false }).toEqual({
        name,
        default: spec.default ?? '',
        required: spec.required,
      })
      expect(declared?.description?.length ?? 0).toBeGreaterThan(10)
    }
  })

  it('declares in action.yml exactly the outputs its code may set', async () => {
    const { outputs } = (await import(join(REPO_ROOT, 'actions', action, 'src', 'inputs.ts'))) as {
      outputs: string[]
    }
    expect(Object.keys(readActionYaml(action).outputs ?? {}).sort()).toEqual([...outputs].sort())
  })

  it('describes every output, runs on node24 from dist/, and cleans up in an always() post step', () => {
    const yaml = readActionYaml(action)
    for (const output of Object.values(yaml.outputs ?? {}))
      expect(output.description?.length ?? 0).toBeGreaterThan(10)
    expect(yaml.runs.using).toBe('node24')
    expect(yaml.runs.main).toBe(`../../dist/${action}/index.js`)
    if (yaml.runs.post) expect(yaml.runs['post-if']).toBe('always()')
  })
})

describe.each(actions)('actions/%s/README.md', (action) => {
  it('documents every input and output in its tables', () => {
    const readme = readFileSync(join(REPO_ROOT, 'actions', action, 'README.md'), 'utf8')
    const yaml = readActionYaml(action)
    for (const name of [...Object.keys(yaml.inputs ?? {}), ...Object.keys(yaml.outputs ?? {})]) {
      expect(readme).toContain(`| \`${name}\` |`)
    }
  })
})
