import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

/**
 * Opens a SQLite database and takes its exclusive lock for the life of the connection: in EXCLUSIVE
 * locking mode the lock a write takes is never given back until close (or until the process dies,
 * when the kernel drops it). A second process on the same file, in this container or another one on
 * the same volume, then gets SQLite's own "database is locked", the error the seed's deployments hit.
 * timeout 0: fail at once instead of waiting for a lock that is held for good.
 */
export function openExclusive(path: string): DatabaseSync {
  mkdirSync(dirname(path), { recursive: true })
  const db = new DatabaseSync(path, { timeout: 0 })
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE')
    db.exec(
      'CREATE TABLE IF NOT EXISTS lock_holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER, host TEXT, since TEXT)',
    )
    // CREATE ... IF NOT EXISTS writes nothing once the table exists: this write is what takes the lock.
    db.prepare('INSERT OR REPLACE INTO lock_holder (id, pid, host, since) VALUES (1, ?, ?, ?)').run(
      process.pid,
      process.env.HOSTNAME ?? '',
      new Date().toISOString(),
    )
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/** True for SQLite's SQLITE_BUSY, which node:sqlite reports with the message "database is locked". */
export function isLocked(error: unknown): boolean {
  return error instanceof Error && /database is locked/.test(error.message)
}

/** Takes the lock or ends the process with one clear line on stderr and exit code 1. */
export function openExclusiveOrExit(role: string, path: string): DatabaseSync {
  try {
    return openExclusive(path)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    if (isLocked(error)) {
      console.error(
        `[${role}] fatal: cannot take the exclusive lock on ${path}: database is locked (another instance is running on this volume)`,
      )
    } else {
      console.error(`[${role}] fatal: cannot open ${path}: ${message}`)
    }
    process.exit(1)
  }
}
