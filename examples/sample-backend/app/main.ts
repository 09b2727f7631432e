// One image, several roles, chosen by the container's command (the ECS task definition's "command").
const roles: Record<string, string> = {
  api: './api.ts',
  'vector-store': './vector-store.ts',
  cleanup: './cleanup.ts',
  healthcheck: './healthcheck.ts',
}

const role = process.argv[2] ?? 'api'
const entry = roles[role]
if (entry === undefined) {
  console.error(`fatal: unknown role "${role}" (expected one of: ${Object.keys(roles).join(', ')})`)
  process.exit(1)
}
await import(entry)

// A module (not a script), for top-level await.
export {}
