import { openSync, readSync, closeSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import { isLocked, openExclusive } from './lock.ts'

// The seed's "Clear Databases" one-off task: empties the data volumes, but only when no api or
// vector store holds them. It takes the same exclusive locks they take, so a running instance makes
// it fail with their "database is locked" instead of deleting files under a live database.
const ROLE = 'cleanup'
const paths = (process.env.CLEAR_PATHS || '/data:/database').split(':').filter(Boolean)

for (const path of paths) {
  if (!path.startsWith('/') || path.replace(/\/+$/, '') === '') {
    console.error(
      `[${ROLE}] fatal: refusing to clear "${path}": CLEAR_PATHS takes absolute directories other than /`,
    )
    process.exit(1)
  }
}

function isSqlite(file: string): boolean {
  const header = Buffer.alloc(16)
  const fd = openSync(file, 'r')
  try {
    return readSync(fd, header, 0, 16, 0) === 16 && header.toString('latin1') === 'SQLite format 3\0'
  } finally {
    closeSync(fd)
  }
}

function sqliteFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter(isSqlite)
}

const present = paths.filter((path) => {
  const exists = statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false
  if (!exists) console.log(`[${ROLE}] ${path}: not a directory here, skipped`)
  return exists
})

// Every lock first, then delete: nothing is removed unless every database is free.
const held: DatabaseSync[] = []
for (const file of present.flatMap(sqliteFiles)) {
  try {
    held.push(openExclusive(file))
  } catch (error) {
    for (const db of held) db.close()
    const reason = isLocked(error)
      ? 'database is locked (a running api or vector-store holds it: scale the service to 0 first)'
      : (error as Error).message
    console.error(`[${ROLE}] fatal: ${file}: ${reason}; nothing was removed`)
    process.exit(1)
  }
}

let removed = 0
for (const dir of present) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const target = join(dir, entry.name)
    rmSync(target, { recursive: true, force: true })
    console.log(`[${ROLE}] removed ${target}${entry.isDirectory() ? '/' : ''}`)
    removed += 1
  }
}
// Closed only now, so no instance could start on a half-deleted volume.
for (const db of held) db.close()
console.log(`[${ROLE}] cleared ${present.join(', ') || 'nothing'}: ${removed} entries removed`)
