import { afterEach, describe, expect, it } from '@jest/globals'
import {
  bool,
  duration,
  InputError,
  integer,
  keyValues,
  list,
  path,
  oneOf,
  port,
  readInputs,
  text,
  url,
} from '@ecs-lockstep/core'

function setInputs(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) process.env[`INPUT_${name.toUpperCase()}`] = value
}

function problemsOf(read: () => unknown): string[] {
  try {
    read()
  } catch (error) {
    if (error instanceof InputError) return error.problems
    throw error
  }
  throw new Error('expected an InputError')
}

afterEach(() => {
  for (const key of Object.keys(process.env).filter((k) => k.startsWith('INPUT_')))
    Reflect.deleteProperty(process.env, key)
})

describe('readInputs', () => {
  it('parses every kind of input into typed, camel-cased values', () => {
    setInputs({
      context: './backend',
      'wait-for': 'running',
      'create-repository': 'True',
      'health-timeout': '1m30s',
      'desired-count': '2',
      port: '8080',
      'health-url': 'https://api.example.com/health',
      tags: 'abc123, latest\nv1',
      env: 'APP_ENV=production\n# comment\n\nDATABASE_URL=sqlite:////data/app.db?mode=rw',
    })
    const values = readInputs({
      context: text({ default: '.' }),
      'wait-for': oneOf(['healthy', 'running', 'none'], { default: 'healthy' }),
      'create-repository': bool({ default: 'false' }),
      'health-timeout': duration({ default: '60s' }),
      'desired-count': integer({ default: '1' }),
      port: port({ default: '8000' }),
      'health-url': url(),
      tags: list(),
      env: keyValues(),
    })
    expect(values).toEqual({
      context: './backend',
      waitFor: 'running',
      createRepository: true,
      healthTimeout: 90_000,
      desiredCount: 2,
      port: 8080,
      healthUrl: 'https://api.example.com/health',
      tags: ['abc123', 'latest', 'v1'],
      env: { APP_ENV: 'production', DATABASE_URL: 'sqlite:////data/app.db?mode=rw' },
    })
  })

  it('uses the declared default for an empty input and the empty value for optional ones', () => {
    setInputs({ port: '   ' })
    expect(
      readInputs({ port: port({ default: '8000' }), tags: list(), env: keyValues(), image: text() }),
    ).toEqual({
      port: 8000,
      tags: [],
      env: {},
      image: undefined,
    })
  })

  it('reports every bad input at once, naming it, quoting it and saying what is expected', () => {
    setInputs({ 'wait-for': 'ready', 'health-timeout': '90', port: '0', 'create-repository': 'yes' })
    const problems = problemsOf(() =>
      readInputs({
        cluster: text({ required: true }),
        'wait-for': oneOf(['healthy', 'running', 'none']),
        'health-timeout': duration(),
        port: port(),
        'create-repository': bool({ default: 'false' }),
      }),
    )
    expect(problems).toEqual([
      "Input 'cluster' is required.",
      `Input 'wait-for' "ready": expected one of: healthy, running, none`,
      `Input 'health-timeout' "90": expected a duration with a unit, such as 500ms, 90s, 5m or 1h30m`,
      `Input 'port' "0": expected a TCP port from 1 to 65535`,
      `Input 'create-repository' "yes": expected true or false`,
    ])
  })

  it('checks duration and integer bounds', () => {
    setInputs({ timeout: '2s', count: '11' })
    expect(
      problemsOf(() =>
        readInputs({ timeout: duration({ min: 5000, max: 3_600_000 }), count: integer({ min: 0, max: 10 }) }),
      ),
    ).toEqual([
      `Input 'timeout' "2s": expected a duration from 5.0s to 1h 00m`,
      `Input 'count' "11": expected a whole number from 0 to 10`,
    ])
  })

  it('rejects non-http URLs and list items that fail their pattern', () => {
    setInputs({ 'health-url': 'ftp://example.com', tags: 'latest, Bad Tag' })
    expect(
      problemsOf(() =>
        readInputs({ 'health-url': url(), tags: list({ item: /^\S+$/, expected: 'no spaces' }) }),
      ),
    ).toEqual([
      `Input 'health-url' "ftp://example.com": expected an absolute http:// or https:// URL`,
      `Input 'tags' "latest, Bad Tag": "Bad Tag" is not valid: no spaces`,
    ])
  })

  it('never quotes a KEY=VALUE list or a secret input in an error', () => {
    setInputs({ env: 'JWT_SECRET: hunter2\n1BAD=x\nA=1\nA=2', password: 'hunter3' })
    const problems = problemsOf(() =>
      readInputs({
        env: keyValues(),
        password: text({ secret: true, pattern: /^\d+$/, expected: 'expected digits' }),
      }),
    )
    expect(problems).toEqual([
      `Input 'env': line 1 has no "=" (the line is not shown, it may hold a secret): expected KEY=VALUE; line 2: "1BAD" is not a valid name: expected letters, digits and _, not starting with a digit; line 4: A is set twice`,
      `Input 'password': expected digits`,
    ])
    expect(problems.join('\n')).not.toMatch(/hunter/)
  })

  it('summarises several problems in one error message with a hint that nothing changed', () => {
    setInputs({ port: 'x', 'wait-for': 'y' })
    try {
      readInputs({ port: port(), 'wait-for': oneOf(['a', 'b']) })
      throw new Error('expected failure')
    } catch (error) {
      expect((error as InputError).message).toBe(
        `2 inputs are invalid:\n- Input 'port' "x": expected a TCP port from 1 to 65535\n- Input 'wait-for' "y": expected one of: a, b`,
      )
      expect((error as InputError).hint).toContain('Nothing was changed')
    }
  })
})

describe('what no input may hold', () => {
  it('refuses line breaks in a single-line input, shows the value escaped, and accepts them where lines are the format', () => {
    setInputs({ cluster: 'ok\n::set-output name=pwned::x', env: 'A=1\nB=2' })
    expect(problemsOf(() => readInputs({ cluster: text(), env: keyValues() }))).toEqual([
      `Input 'cluster' "ok\\n::set-output name=pwned::x": it contains a line break: expected a single line`,
    ])
  })

  it('refuses control and invisible characters, naming their code point', () => {
    setInputs({ reason: 'rollback \u202eevil', name: 'ab\u200bc' })
    expect(problemsOf(() => readInputs({ reason: text(), name: text() }))).toEqual([
      `Input 'reason' "rollback \\u202eevil": it contains a control or invisible character (U+202E): expected printable text`,
      `Input 'name' "ab\\u200bc": it contains a control or invisible character (U+200B): expected printable text`,
    ])
  })

  it('shows at most a prefix and the length of a huge value, and bounds the value', () => {
    setInputs({ image: 'a'.repeat(102_400) })
    const [problem] = problemsOf(() => readInputs({ image: text() }))
    expect(problem).toBe(
      `Input 'image' "${'a'.repeat(60)}…" (102400 characters): it is 102400 characters long: expected at most 4096`,
    )
  })

  it('checks a path exists, is of its kind, and stays in the workspace', () => {
    setInputs({ context: 'test', dockerfile: 'test', outside: '../../../../etc/passwd' })
    expect(
      problemsOf(() =>
        readInputs({
          context: path({ kind: 'directory' }),
          dockerfile: path({ kind: 'file' }),
          outside: path({ kind: 'file' }),
        }),
      ),
    ).toEqual([
      `Input 'dockerfile' "test": it is not a file: expected a file`,
      `Input 'outside' "../../../../etc/passwd": it is outside the workspace: expected a file in the workspace`,
    ])
  })
})

describe('KEY=VALUE lines where an empty value is a mistake', () => {
  it('refuses KEY= (an unset variable), takes KEY="" as an empty value on purpose, and checks values', () => {
    setInputs({ env: 'CORS_ORIGINS=\nLOG_LEVEL=""\nAPP_ENV=production' })
    expect(problemsOf(() => readInputs({ env: keyValues({ explicitEmpty: true }) }))).toEqual([
      `Input 'env': line 1: CORS_ORIGINS is empty (an unset variable?): expected a value, or CORS_ORIGINS="" to set it empty on purpose`,
    ])
    setInputs({ env: 'LOG_LEVEL=""\nAPP_ENV=production' })
    expect(readInputs({ env: keyValues({ explicitEmpty: true }) })).toEqual({
      env: { LOG_LEVEL: '', APP_ENV: 'production' },
    })
    setInputs({
      secrets: 'JWT_SECRET=arn:aws:secretsmanager:us-east-1:123456789012:secret:wwhd/jwt-AbCdEf\nKEY=plain',
    })
    expect(
      problemsOf(() =>
        readInputs({
          secrets: keyValues({ value: (v) => (v.startsWith('arn:') ? undefined : 'expected an ARN') }),
        }),
      ),
    ).toEqual([`Input 'secrets': line 2: KEY (the value is not shown, it may be a secret): expected an ARN`])
  })
})
