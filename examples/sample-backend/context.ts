import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import {
  chmod,
  copyFile,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'

const execFileAsync = promisify(execFile)
const HERE = dirname(fileURLToPath(import.meta.url))

/**
 * This process's build context: made on first use, reused by its later builds, removed by
 * removeSampleContext() (or when the process exits). Per process, so concurrent runs never share
 * one; Docker's layer cache hits on file contents, not paths, so a fresh directory costs a copy only.
 */
let processContext: string | undefined

export function removeSampleContext(): void {
  if (processContext) rmSync(processContext, { recursive: true, force: true })
  processContext = undefined
}
process.on('exit', removeSampleContext)

export type SampleVariant = 'good' | 'broken'

/** The shared libraries ldd lists for binary, the dynamic loader included (not the kernel's vDSO). */
export async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string
  try {
    ;({ stdout } = await execFileAsync('ldd', [binary]))
  } catch (error) {
    // "not a dynamic executable": a static binary needs nothing beside it.
    if (/not a dynamic executable/.test(String((error as { stdout?: string }).stdout ?? ''))) return []
    throw error
  }
  const libraries: string[] = []
  for (const line of stdout.split('\n')) {
    if (/not found/.test(line)) throw new Error(`ldd ${binary}: ${line.trim()}`)
    const match = /(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line)
    if (match?.[1]) libraries.push(match[1])
  }
  return libraries
}

/**
 * Copies src (following symlinks: the image needs the real file at the linked path) unless dest
 * already has its size and mtime. Written beside dest and renamed, so a concurrent build never sends
 * half a file.
 */
async function syncFile(src: string, dest: string): Promise<void> {
  const [from, to] = await Promise.all([stat(src), stat(dest).catch(() => undefined)])
  if (to && to.size === from.size && Math.abs(to.mtimeMs - from.mtimeMs) < 1) return
  await mkdir(dirname(dest), { recursive: true })
  const partial = `${dest}.partial-${process.pid}`
  await copyFile(src, partial)
  await chmod(partial, from.mode & 0o7777)
  await utimes(partial, from.atime, from.mtime)
  await rename(partial, dest)
}

/** Writes dest only when its content differs (small files: the app and the Dockerfile). */
async function syncText(src: string, dest: string): Promise<void> {
  const content = await readFile(src)
  const current = await readFile(dest).catch(() => undefined)
  if (current?.equals(content)) return
  await mkdir(dirname(dest), { recursive: true })
  const partial = `${dest}.partial-${process.pid}`
  await writeFile(partial, content)
  await rename(partial, dest)
}

/**
 * Creates, or brings up to date, the Docker build context of the sample backend: the Dockerfile, the
 * app, and in runtime/ the node binary running this script with the shared libraries it links, at
 * the paths they have here. Returns the directory.
 */
export async function prepareSampleContext(
  outDir: string = (processContext ??= mkdtempSync(join(tmpdir(), 'ecs-lockstep-sample-context-'))),
): Promise<string> {
  const major = Number(process.versions.node.split('.')[0])
  if (major < 24) {
    throw new Error(
      `The sample image copies the node running this script (${process.version}): run it with Node 24`,
    )
  }
  const node = await realpath(process.execPath)
  const runtime = join(outDir, 'runtime')
  const wanted = new Map([[join(runtime, 'usr/local/bin/node'), node]])
  for (const library of await sharedLibraries(node)) wanted.set(join(runtime, library), library)
  for (const [dest, src] of wanted) await syncFile(src, dest)
  // Files a previous node left behind (another version, other libraries) would ship in the image.
  for (const entry of await readdir(runtime, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    if (!entry.isDirectory() && !wanted.has(path) && !path.includes('.partial-'))
      await rm(path, { force: true })
  }
  // Mount points and a temp dir: a FROM scratch image has no directories at all.
  for (const [dir, mode] of [
    ['tmp', 0o1777],
    ['data', 0o755],
    ['database', 0o755],
  ] as const) {
    await mkdir(join(runtime, dir), { recursive: true })
    await chmod(join(runtime, dir), mode)
  }

  const appFiles = (await readdir(join(HERE, 'app'))).filter((name) => /\.(ts|json)$/.test(name))
  for (const name of appFiles) await syncText(join(HERE, 'app', name), join(outDir, 'app', name))
  for (const name of await readdir(join(outDir, 'app'))) {
    if (!appFiles.includes(name)) await rm(join(outDir, 'app', name), { recursive: true, force: true })
  }
  await syncText(join(HERE, 'Dockerfile'), join(outDir, 'Dockerfile'))
  return outDir
}

/** Builds the sample image under tag and returns its id (sha256:...). */
export async function buildSampleImage(
  tag: string,
  options: { variant?: SampleVariant; version?: string } = {},
): Promise<string> {
  const variant = options.variant ?? 'good'
  const version = options.version ?? 'dev'
  if (variant !== 'good' && variant !== 'broken')
    throw new Error(`Unknown variant "${variant}": good or broken`)
  const context = await prepareSampleContext()
  const args = ['build', '--quiet', '--build-arg', `VARIANT=${variant}`, '--build-arg', `VERSION=${version}`]
  let stdout: string
  try {
    ;({ stdout } = await execFileAsync('docker', [...args, '--tag', tag, context], { maxBuffer: 16 << 20 }))
  } catch (error) {
    const err = error as { code?: number; stderr?: string; message: string }
    throw new Error(`docker build of ${tag} failed (exit ${err.code}): ${(err.stderr || err.message).trim()}`)
  }
  const id = stdout.trim().split('\n').pop() ?? ''
  if (!/^sha256:[0-9a-f]{64}$/.test(id))
    throw new Error(`docker build of ${tag} printed no image id: ${stdout}`)
  return id
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { variant: { type: 'string', default: 'good' }, version: { type: 'string', default: 'dev' } },
  })
  const tag = positionals[0] ?? 'ecs-lockstep/sample-backend:dev'
  const started = Date.now()
  try {
    const id = await buildSampleImage(tag, {
      variant: values.variant as SampleVariant,
      version: values.version,
    })
    console.error(`built ${tag} (${values.variant}, version ${values.version}) in ${Date.now() - started} ms`)
    console.log(id)
  } catch (error) {
    console.error((error as Error).message)
    process.exit(1)
  }
}
