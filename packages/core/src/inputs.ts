import * as core from '@actions/core'
import { statSync, type Stats } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, relative, resolve as resolvePath } from 'node:path'
import * as z from 'zod/mini'
import { ActionError } from './errors.ts'
import { maskSecret } from './secrets.ts'
import { formatDuration, parseDuration } from './time.ts'

/**
 * Inputs are declared once per action as a map of parsers, read all at once, and reported all at
 * once: a step with three bad inputs fails with three lines, before anything touches Docker or AWS.
 */
export interface Input<T> {
  readonly schema: z.ZodMiniType<T, string>
  /** Used when the step leaves the input empty; the same string action.yml declares. */
  readonly default: string | undefined
  readonly required: boolean
  /** Masked on read and never shown in an error. */
  readonly secret: boolean
  /** Whether an error may quote the value (false for KEY=VALUE lists, which may hold secrets). */
  readonly quotable: boolean
  /** What the input holds when empty and optional. */
  readonly empty: T
  /** Line breaks allowed (lists, KEY=VALUE lines); a single-line input refuses CR and LF. */
  readonly multiline: boolean
  readonly maxLength: number
}

interface Options {
  default?: string
  required?: boolean
  secret?: boolean
  multiline?: boolean
  /** Longest value accepted (default 4096 characters, 64 KiB for multi-line inputs). */
  maxLength?: number
}

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<Camel<Tail>>}`
  : S
export type InputValues<S extends Record<string, Input<unknown>>> = {
  [K in keyof S & string as Camel<K>]: S[K] extends Input<infer T> ? T : never
}

function define<T, E>(
  schema: z.ZodMiniType<T, string>,
  empty: E,
  options: Options,
  quotable = true,
): Input<T | E> {
  const multiline = options.multiline ?? false
  return {
    schema: schema as z.ZodMiniType<T | E, string>,
    default: options.default,
    required: options.required ?? false,
    secret: options.secret ?? false,
    quotable,
    empty,
    multiline,
    maxLength: options.maxLength ?? (multiline ? 65_536 : 4096),
  }
}

type Required<O extends Options> = O extends { default: string } | { required: true } ? true : false
type Value<T, O extends Options> = Required<O> extends true ? T : T | undefined

/** A schema from a parse function that returns the value or a list of problems ("expected ..."). */
function parser<T>(parse: (raw: string) => { value: T } | { problems: string[] }): z.ZodMiniType<T, string> {
  return z.pipe(
    z.string(),
    z.transform((raw: string, ctx) => {
      const result = parse(raw)
      if ('value' in result) return result.value
      for (const message of result.problems) ctx.issues.push({ code: 'custom', message, input: raw })
      return undefined as T
    }),
  ) as unknown as z.ZodMiniType<T, string>
}

/**
 * Text; `pattern` with `expected`, or `check` (a grammar from references.ts returning the problem),
 * narrows it.
 */
export function text<
  O extends Options & { pattern?: RegExp; expected?: string; check?: (value: string) => string | undefined },
>(options: O = {} as O): Input<Value<string, O>> {
  const { pattern, expected, check } = options
  const schema = parser<string>((raw) => {
    if (pattern && !pattern.test(raw)) return { problems: [expected ?? `expected text matching ${pattern}`] }
    const problem = check?.(raw)
    return problem ? { problems: [problem] } : { value: raw }
  })
  return define(schema, undefined, options) as Input<Value<string, O>>
}

export function oneOf<const V extends string, O extends Options>(
  values: readonly V[],
  options: O = {} as O,
): Input<Value<V, O>> {
  const schema = z.enum(values as [V, ...V[]], { error: `expected one of: ${values.join(', ')}` })
  return define(schema as unknown as z.ZodMiniType<V, string>, undefined, options) as Input<Value<V, O>>
}

const BOOLEAN = ['true', 'True', 'TRUE', 'false', 'False', 'FALSE']

/** `true` or `false` (also True/TRUE/False/FALSE, as YAML 1.2 and core.getBooleanInput allow). */
export function bool(options: Options & { default: 'true' | 'false' }): Input<boolean> {
  const schema = parser<boolean>((raw) =>
    BOOLEAN.includes(raw)
      ? { value: raw.toLowerCase() === 'true' }
      : { problems: ['expected true or false'] },
  )
  return define(schema, false, options)
}

/** A duration such as `90s`, `5m`, `1h30m` or `500ms`, as milliseconds. */
export function duration<O extends Options & { min?: number; max?: number }>(
  options: O = {} as O,
): Input<Value<number, O>> {
  const min = options.min ?? 0
  const max = options.max ?? Number.MAX_SAFE_INTEGER
  const schema = parser((raw) => {
    const ms = parseDuration(raw)
    if (ms === undefined)
      return { problems: ['expected a duration with a unit, such as 500ms, 90s, 5m or 1h30m'] }
    if (ms < min || ms > max) {
      const range =
        max === Number.MAX_SAFE_INTEGER
          ? `of ${formatDuration(min)} or more`
          : `from ${formatDuration(min)} to ${formatDuration(max)}`
      return { problems: [`expected a duration ${range}`] }
    }
    return { value: ms }
  })
  return define(schema, undefined, options) as Input<Value<number, O>>
}

/** A whole number within bounds (default: 1 and up). */
export function integer<O extends Options & { min?: number; max?: number; expected?: string }>(
  options: O = {} as O,
): Input<Value<number, O>> {
  const min = options.min ?? 1
  const max = options.max ?? Number.MAX_SAFE_INTEGER
  const expected =
    options.expected ??
    (max === Number.MAX_SAFE_INTEGER
      ? `expected a whole number of ${min} or more`
      : `expected a whole number from ${min} to ${max}`)
  const schema = parser((raw) => {
    const value = Number(raw)
    return /^\d+$/.test(raw) && value >= min && value <= max ? { value } : { problems: [expected] }
  })
  return define(schema, undefined, options) as Input<Value<number, O>>
}

export function port<O extends Options>(options: O = {} as O): Input<Value<number, O>> {
  return integer({
    ...options,
    min: 1,
    max: 65535,
    expected: 'expected a TCP port from 1 to 65535',
  }) as Input<Value<number, O>>
}

/**
 * Why `raw` is not an existing file or directory (undefined when it is). Relative paths start at
 * the workspace, and no path may leave the workspace, RUNNER_TEMP or the temporary directory:
 * `../../etc/passwd` is refused, not read.
 */
export function pathProblem(raw: string, kind: 'file' | 'directory'): string | undefined {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
  const full = resolvePath(workspace, raw)
  const roots = [workspace, process.env.RUNNER_TEMP, tmpdir()].filter((r): r is string => Boolean(r))
  const inside = roots.some((root) => {
    const rel = relative(resolvePath(root), full)
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
  })
  if (!inside) return `it is outside the workspace: expected a ${kind} in the workspace`
  let stats: Stats
  try {
    stats = statSync(full)
  } catch {
    return `no such ${kind}: expected a ${kind} in the workspace`
  }
  const isKind = kind === 'file' ? stats.isFile() : stats.isDirectory()
  return isKind ? undefined : `it is not a ${kind}: expected a ${kind}`
}

export function path<O extends Options & { kind: 'file' | 'directory' }>(
  options: O,
): Input<Value<string, O>> {
  const schema = parser<string>((raw) => {
    const problem = pathProblem(raw, options.kind)
    return problem ? { problems: [problem] } : { value: raw }
  })
  return define(schema, undefined, options) as Input<Value<string, O>>
}

/** An AWS region name; left empty, AWS_REGION or AWS_DEFAULT_REGION decide (resolveRegion). */
export function region<O extends Options>(options: O = {} as O): Input<Value<string, O>> {
  return text({
    ...options,
    pattern: /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/,
    expected: 'expected a region such as us-east-1 or eu-west-2',
  }) as Input<Value<string, O>>
}

/** An absolute http(s) URL. */
export function url<O extends Options>(options: O = {} as O): Input<Value<string, O>> {
  const schema = z.url({
    protocol: /^https?$/,
    hostname: /^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:.]+\]$/,
    error: 'expected an absolute http:// or https:// URL',
  })
  return define(schema as z.ZodMiniType<string, string>, undefined, options) as Input<Value<string, O>>
}

/**
 * An input with its own grammar: `parse` returns the value or the problems ("expected …"). For the
 * structured inputs of one action (verify-health's checks and users), so that their errors come
 * with the others, before anything runs.
 */
export function custom<T, O extends Options>(
  parse: (raw: string) => { value: T } | { problems: string[] },
  empty: T,
  options: O = {} as O,
  quotable = true,
): Input<T> {
  return define(parser(parse), empty, options, quotable) as Input<T>
}

/** Items separated by newlines or commas; each checked against `item` when given. */
export function list(options: Options & { item?: RegExp; expected?: string } = {}): Input<string[]> {
  const schema = parser<string[]>((raw) => {
    const items = raw
      .split(/[\n,]/)
      .map((item) => item.trim())
      .filter((item) => item.length > 0 && !item.startsWith('#'))
    const problems = items
      .filter((item) => options.item && !options.item.test(item))
      .slice(0, 5)
      .map((item) => `${shown(item)} is not valid: ${options.expected ?? `expected ${options.item}`}`)
    return problems.length > 0 ? { problems } : { value: items }
  })
  return define(schema, [] as string[], { multiline: true, ...options })
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/

/**
 * Multi-line `KEY=VALUE` pairs. Blank lines and lines starting with `#` are skipped; the value is
 * everything after the first `=`. Errors name the line and key but never show a value.
 * `explicitEmpty`: `KEY=` is refused (an unset workflow variable would blank a live setting) and
 * `KEY=""` sets an empty value on purpose. `value` checks each value, never shown in an error.
 */
export function keyValues(
  options: Options & { explicitEmpty?: boolean; value?: (value: string) => string | undefined } = {},
): Input<Record<string, string>> {
  const schema = parser<Record<string, string>>((raw) => {
    const pairs: Record<string, string> = {}
    const problems: string[] = []
    raw.split(/\r?\n/).forEach((line, index) => {
      const trimmed = line.trim()
      if (trimmed === '' || trimmed.startsWith('#')) return
      const equals = trimmed.indexOf('=')
      const key = equals < 0 ? '' : trimmed.slice(0, equals).trim()
      if (equals < 0) {
        problems.push(
          `line ${index + 1} has no "=" (the line is not shown, it may hold a secret): expected KEY=VALUE`,
        )
      } else if (!ENV_KEY.test(key)) {
        problems.push(
          `line ${index + 1}: ${shown(key)} is not a valid name: expected letters, digits and _, not starting with a digit`,
        )
      } else if (key in pairs) {
        problems.push(`line ${index + 1}: ${key} is set twice`)
      } else {
        const written = trimmed.slice(equals + 1)
        const value = options.explicitEmpty && written.trim() === '""' ? '' : written
        const problem = options.value?.(value)
        if (options.explicitEmpty && written.trim() === '') {
          problems.push(
            `line ${index + 1}: ${key} is empty (an unset variable?): expected a value, or ${key}="" to set it empty on purpose`,
          )
        } else if (problem) {
          // A value in the wrong place may be a secret pasted by mistake: masked, never shown.
          maskSecret(value)
          problems.push(`line ${index + 1}: ${key} (the value is not shown, it may be a secret): ${problem}`)
        } else {
          pairs[key] = value
        }
      }
    })
    return problems.length > 0 ? { problems: problems.slice(0, 5) } : { value: pairs }
  })
  return define(schema, {} as Record<string, string>, { multiline: true, ...options }, false)
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

// Invisible or reordering characters (bidi overrides and isolates, zero-width) and controls.
const INVISIBLE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g

/**
 * A value as an error shows it: quoted, at most 60 characters of it with its length when longer,
 * control and invisible characters as \u escapes, so what is shown is what was given.
 */
export function shown(raw: string): string {
  const prefix = raw.length > 60 ? raw.slice(0, 60) : raw
  const visible = JSON.stringify(prefix).replace(
    INVISIBLE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
  return raw.length > 60 ? `${visible.slice(0, -1)}…" (${raw.length} characters)` : visible
}

/** One line of an input error: names the input, shows the value unless secret, says what is expected. */
export function describeInputProblem(name: string, raw: string, problem: string, quotable = true): string {
  return `Input '${name}'${quotable && raw !== '' ? ` ${shown(raw)}` : ''}: ${problem}`
}

/** What no input may hold, whatever its grammar: the checks every value passes first. */
function basicProblem(raw: string, spec: Input<unknown>): string | undefined {
  if (raw.length > spec.maxLength)
    return `it is ${raw.length} characters long: expected at most ${spec.maxLength}`
  if (!spec.multiline && /[\r\n]/.test(raw)) return 'it contains a line break: expected a single line'
  const invisible = raw.replace(/[\r\n\t]/g, ' ').match(INVISIBLE)
  if (invisible) {
    const code = `U+${(invisible[0].charCodeAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
    return `it contains a control or invisible character (${code}): expected printable text`
  }
  return undefined
}

export class InputError extends ActionError {
  readonly problems: string[]

  constructor(problems: string[]) {
    super(
      problems.length === 1
        ? (problems[0] as string)
        : `${problems.length} inputs are invalid:\n- ${problems.join('\n- ')}`,
      { hint: 'Fix the `with:` block of this step. Nothing was changed.' },
    )
    this.problems = problems
  }
}

/**
 * A value handed to the deploy engine is wrong. The engine knows no action inputs, so `field` names
 * the request's field (`taskDefinition`, `desiredCount`...); the action turns it into the
 * InputError of the input that gave the value with `asInputError`.
 */
export class RequestError extends ActionError {
  readonly field: string
  readonly value: string
  readonly problem: string

  constructor(field: string, value: string, problem: string) {
    super(`${field}${value === '' ? '' : ` ${shown(value)}`}: ${problem}`, { hint: 'Nothing was changed.' })
    this.field = field
    this.value = value
    this.problem = problem
  }
}

/**
 * The InputError naming the input behind a RequestError's field: the input whose camelCase name is
 * the field, or the one `renamed` gives. Any other error comes back as it was.
 */
export function asInputError(
  error: unknown,
  specs: Record<string, Input<unknown>>,
  renamed: Record<string, string> = {},
): unknown {
  if (!(error instanceof RequestError)) return error
  const name = renamed[error.field] ?? Object.keys(specs).find((input) => camel(input) === error.field)
  if (name === undefined) return error
  const named = inputError(name, error.value, error.problem)
  named.cause = error
  return named
}

/**
 * Checks that span inputs (two that go together, a value that depends on another): given the values
 * and the names of the inputs that already failed, each returns its problem lines, written as
 * describeInputProblem writes them, so that they join the others in one error.
 */
export type CrossCheck<S extends Record<string, Input<unknown>>> = (
  values: InputValues<S>,
  failed: ReadonlySet<string>,
) => (string | undefined)[]

/**
 * Reads, validates and returns every input of an action, or throws one InputError listing all
 * problems: each input's own, then those of the cross-input checks.
 */
export function readInputs<S extends Record<string, Input<unknown>>>(
  specs: S,
  crossChecks: CrossCheck<S>[] = [],
): InputValues<S> {
  const values: Record<string, unknown> = {}
  const problems: string[] = []
  for (const [name, spec] of Object.entries(specs)) {
    // getInput trims; an empty value means "unset", as on the runner.
    const raw = core.getInput(name, { trimWhitespace: true }) || spec.default || ''
    if (spec.secret) maskSecret(raw)
    if (raw === '') {
      if (spec.required) problems.push(`Input '${name}' is required.`)
      values[camel(name)] = spec.empty
      continue
    }
    const basic = basicProblem(raw, spec)
    if (basic) {
      problems.push(describeInputProblem(name, raw, basic, spec.quotable && !spec.secret))
      values[camel(name)] = spec.empty
      continue
    }
    const parsed = spec.schema.safeParse(raw)
    if (parsed.success) {
      values[camel(name)] = parsed.data
    } else {
      const problem = parsed.error.issues.map((issue) => issue.message).join('; ')
      problems.push(describeInputProblem(name, raw, problem, spec.quotable && !spec.secret))
      // The cross-input checks see an input that failed as empty (and know it failed).
      values[camel(name)] = spec.empty
    }
  }
  const failed = new Set(
    Object.keys(specs).filter((name) => problems.some((p) => p.startsWith(`Input '${name}'`))),
  )
  for (const check of crossChecks)
    for (const problem of check(values as InputValues<S>, failed)) if (problem) problems.push(problem)
  if (problems.length > 0) throw new InputError(problems)
  return values as InputValues<S>
}

/** For checks that span inputs, raised after readInputs: same wording, same hint. */
export function inputError(name: string, raw: string, problem: string): InputError {
  return new InputError([describeInputProblem(name, raw, problem)])
}

/** The same, for a secret input: the value is never shown. */
export function secretInputError(name: string, problem: string): InputError {
  return new InputError([describeInputProblem(name, '', problem, false)])
}
