import * as core from '@actions/core'

/** Every value registered with the runner's masker in this process, longest first for redaction. */
const masked: string[] = []

/** Names that hold credentials whatever the user says: JWT_SECRET, DB_PASSWORD, API_TOKEN, ... */
const CREDENTIAL_NAME = /(pass(word|wd)?|secret|token|api[-_]?key|private[-_]?key|credential|auth)/i

export function looksLikeCredential(name: string): boolean {
  return CREDENTIAL_NAME.test(name)
}

/** Values that are credentials whatever their name: AWS keys, OpenAI and GitHub tokens, JWTs, PEM keys. */
const CREDENTIAL_VALUE =
  /^(AKIA|ASIA)[0-9A-Z]{16}$|^sk-[A-Za-z0-9_-]{20,}$|^gh[pousr]_[A-Za-z0-9]{30,}$|^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$|-----BEGIN [A-Z ]*PRIVATE KEY-----/

export function valueLooksLikeCredential(value: string): boolean {
  return CREDENTIAL_VALUE.test(value.trim())
}

/**
 * Tells the runner to mask a value in every later log line, and remembers it so that text we write
 * ourselves (the job summary, files) can be redacted too. Each line of a multi-line value is masked
 * on its own because the runner matches line by line.
 */
export function maskSecret(value: string | undefined): void {
  if (!value) return
  for (const part of [value, ...value.split(/\r?\n/)]) {
    const trimmed = part.trim()
    if (trimmed.length === 0 || masked.includes(trimmed)) continue
    core.setSecret(trimmed)
    masked.push(trimmed)
  }
  masked.sort((a, b) => b.length - a.length)
}

/** Replaces every masked value in `text` with `***`, as the runner does for log lines. */
export function redact(text: string): string {
  let result = text
  for (const secret of masked) result = result.split(secret).join('***')
  return result
}

/** Masks each value whose key is listed or is named like a credential, before any command can echo it. */
export function maskSecretValues(values: Record<string, string>, secretKeys: readonly string[] = []): void {
  for (const [key, value] of Object.entries(values)) {
    if (secretKeys.includes(key) || looksLikeCredential(key) || valueLooksLikeCredential(value))
      maskSecret(value)
  }
}
