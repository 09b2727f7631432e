import * as core from '@actions/core'
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
}

interface Options {
  default?: string
  required?: boolean
  secret?: boolean
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
  return {
    schema: schema as z.ZodMiniType<T | E, string>,
    default: options.default,
    required: options.required ?? false,
    secret: options.secret ?? false,
    quotable,
    empty,
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

/** Free text; `pattern` with `expected` narrows it. */
export function text<O extends Options & { pattern?: RegExp; expected?: string }>(
  options: O = {} as O,
): Input<Value<string, O>> {
  const schema = options.pattern
    ? z
        .string()
        .check(z.regex(options.pattern, options.expected ?? `expected text matching ${options.pattern}`))
    : z.string()
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

/** An absolute http(s) URL. */
export function url<O extends Options>(options: O = {} as O): Input<Value<string, O>> {
  const schema = z.url({ protocol: /^https?$/, error: 'expected an absolute http:// or https:// URL' })
  return define(schema as z.ZodMiniType<string, string>, undefined, options) as Input<Value<string, O>>
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
      .map((item) => `"${item}" is not valid: ${options.expected ?? `expected ${options.item}`}`)
    return problems.length > 0 ? { problems } : { value: items }
  })
  return define(schema, [] as string[], options)
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/

/**
 * Multi-line `KEY=VALUE` pairs. Blank lines and lines starting with `#` are skipped; the value is
 * everything after the first `=`. Errors name the line and key but never show a value.
 */
export function keyValues(options: Options = {}): Input<Record<string, string>> {
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
          `line ${index + 1}: "${key}" is not a valid name: expected letters, digits and _, not starting with a digit`,
        )
      } else if (key in pairs) {
        problems.push(`line ${index + 1}: ${key} is set twice`)
      } else {
        pairs[key] = trimmed.slice(equals + 1)
      }
    })
    return problems.length > 0 ? { problems } : { value: pairs }
  })
  return define(schema, {} as Record<string, string>, options, false)
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

/** One line of an input error: names the input, shows the value unless secret, says what is expected. */
export function describeInputProblem(name: string, raw: string, problem: string, quotable = true): string {
  const shown = quotable && raw !== '' ? ` "${raw.length > 200 ? `${raw.slice(0, 200)}…` : raw}"` : ''
  return `Input '${name}'${shown}: ${problem}`
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

/** Reads, validates and returns every input of an action, or throws one InputError listing all problems. */
export function readInputs<S extends Record<string, Input<unknown>>>(specs: S): InputValues<S> {
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
    const parsed = spec.schema.safeParse(raw)
    if (parsed.success) {
      values[camel(name)] = parsed.data
    } else {
      const problem = parsed.error.issues.map((issue) => issue.message).join('; ')
      problems.push(describeInputProblem(name, raw, problem, spec.quotable && !spec.secret))
    }
  }
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
