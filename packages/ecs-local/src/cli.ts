#!/usr/bin/env node
/**
 * ecs-local start [--port N] [--state-dir D] [--runtime docker|simulated|auto] [--config file.json]
 *                 [--no-registry] [--detach]
 * ecs-local stop | status | report [--state-dir D]
 *
 * `start` runs in the foreground until SIGINT/SIGTERM (a clean stop); with --detach it starts
 * itself in the background, waits until the endpoint answers, and returns. Either way it writes
 * `<state-dir>/ecs-local.json` ({ pid, endpoint, ... }), which stop, status and report read.
 */
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startEcsLocal, type RuntimeChoice } from './index.ts'
import { registryBinary } from './registry.ts'

interface Info {
  pid: number
  endpoint: string
  registryHost?: string
  runtime: string
  stateDir: string
  startedAt: string
}

const USAGE = `usage:
  ecs-local start [--port N] [--state-dir D] [--runtime docker|simulated|auto] [--config file.json] [--no-registry] [--detach]
  ecs-local stop   [--state-dir D]
  ecs-local status [--state-dir D]
  ecs-local report [--state-dir D]

State directory: --state-dir, else $ECS_LOCAL_STATE_DIR, else \${XDG_STATE_HOME:-~/.local/state}/ecs-local.`

class CliError extends Error {}

function defaultStateDir(): string {
  if (process.env.ECS_LOCAL_STATE_DIR) return process.env.ECS_LOCAL_STATE_DIR
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'ecs-local')
}

const infoFile = (stateDir: string) => join(stateDir, 'ecs-local.json')

function readInfo(stateDir: string): Info | undefined {
  try {
    return JSON.parse(readFileSync(infoFile(stateDir), 'utf8')) as Info
  } catch {
    return undefined
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // An exited process stays a zombie until its parent (init, once detached) reaps it: that is gone too.
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'
  } catch {
    return true
  }
}

async function control(info: Info, path: string): Promise<unknown> {
  const response = await fetch(`${info.endpoint}/_ecs-local${path}`, { signal: AbortSignal.timeout(5000) })
  if (!response.ok) throw new CliError(`ecs-local answered ${response.status} on ${path}`)
  return response.json()
}

function running(stateDir: string): Info {
  const info = readInfo(stateDir)
  if (!info || !alive(info.pid))
    throw new CliError(`ecs-local is not running (no live process in ${infoFile(stateDir)}).`)
  return info
}

async function start(values: Record<string, string | boolean | undefined>, stateDir: string): Promise<void> {
  const existing = readInfo(stateDir)
  if (existing && alive(existing.pid)) {
    throw new CliError(`ecs-local already runs for ${stateDir}: pid ${existing.pid}, ${existing.endpoint}`)
  }
  const runtime = (values.runtime as string | undefined) ?? 'auto'
  if (!['docker', 'simulated', 'auto'].includes(runtime)) {
    throw new CliError(`--runtime must be docker, simulated or auto, not '${runtime}'`)
  }
  const withRegistry = values['no-registry'] !== true
  if (withRegistry && !registryBinary()) {
    throw new CliError(
      'docker-registry is not installed: apt-get install docker-registry (ECR needs it), or pass --no-registry to run without ECR.',
    )
  }
  mkdirSync(stateDir, { recursive: true })
  if (values.detach) return detach(stateDir)

  const local = await startEcsLocal({
    stateDir,
    runtime: runtime as RuntimeChoice,
    registry: withRegistry,
    ...(values.port !== undefined ? { port: Number(values.port) } : {}),
    ...(values.config ? { configFile: resolve(String(values.config)) } : {}),
  })
  const info: Info = {
    pid: process.pid,
    endpoint: local.endpoint,
    ...(local.registryHost ? { registryHost: local.registryHost } : {}),
    runtime: local.runtime,
    stateDir,
    startedAt: new Date().toISOString(),
  }
  writeFileSync(infoFile(stateDir), JSON.stringify(info, null, 2))
  console.log(
    `ecs-local ${local.runtime} runtime on ${local.endpoint} (state: ${stateDir}, pid ${process.pid})`,
  )
  if (local.registryHost) console.log(`ECR registry: ${local.registryHost}`)
  console.log(`export AWS_ENDPOINT_URL=${local.endpoint} AWS_REGION=${local.region}`)
  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`${signal}: stopping ecs-local (removing its containers)`)
    await local.stop()
    if (readInfo(stateDir)?.pid === process.pid) rmSync(infoFile(stateDir), { force: true })
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

/** Starts `start` again without --detach, in the background, logging to <state-dir>/ecs-local.log. */
async function detach(stateDir: string): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--detach')
  if (!args.includes('--state-dir')) args.push('--state-dir', stateDir)
  const logPath = join(stateDir, 'ecs-local.log')
  const log = openSync(logPath, 'a')
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], {
    detached: true,
    stdio: ['ignore', log, log],
  })
  closeSync(log)
  child.unref()
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    const info = readInfo(stateDir)
    if (info && info.pid === child.pid) {
      console.log(
        `ecs-local ${info.runtime} runtime on ${info.endpoint} (state: ${stateDir}, pid ${info.pid}, log: ${logPath})`,
      )
      console.log(`export AWS_ENDPOINT_URL=${info.endpoint}`)
      return
    }
    if (child.exitCode !== null || !alive(child.pid as number)) {
      const tail = existsSync(logPath)
        ? readFileSync(logPath, 'utf8').trim().split('\n').slice(-15).join('\n')
        : ''
      throw new CliError(`ecs-local exited while starting:\n${tail}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new CliError(`ecs-local did not start within 120 s; see ${logPath}`)
}

async function stop(stateDir: string): Promise<void> {
  const info = readInfo(stateDir)
  if (!info || !alive(info.pid)) {
    rmSync(infoFile(stateDir), { force: true })
    console.log('ecs-local is not running.')
    return
  }
  process.kill(info.pid, 'SIGTERM')
  const deadline = Date.now() + 120_000
  while (alive(info.pid)) {
    if (Date.now() > deadline) throw new CliError(`ecs-local (pid ${info.pid}) did not stop within 120 s`)
    await new Promise((r) => setTimeout(r, 100))
  }
  console.log(`ecs-local (pid ${info.pid}) stopped.`)
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'state-dir': { type: 'string' },
      runtime: { type: 'string' },
      config: { type: 'string' },
      'no-registry': { type: 'boolean' },
      detach: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const command = positionals[0]
  if (values.help || !command) {
    console.log(USAGE)
    return command || values.help ? 0 : 2
  }
  const stateDir = resolve(values['state-dir'] ?? defaultStateDir())
  switch (command) {
    case 'start':
      await start(values, stateDir)
      return 0
    case 'stop':
      await stop(stateDir)
      return 0
    case 'status': {
      const info = running(stateDir)
      const health = (await control(info, '/health')) as { runtime?: string }
      console.log(JSON.stringify({ ...info, healthy: true, ...health }, null, 2))
      return 0
    }
    case 'report':
      console.log(JSON.stringify(await control(running(stateDir), '/report'), null, 2))
      return 0
    default:
      console.error(`unknown command '${command}'\n${USAGE}`)
      return 2
  }
}

main(process.argv.slice(2)).then(
  // A foreground start keeps running on its server; every other command ends here.
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    // Start-up failures (no Docker, a port in use, a bad config file) are explained in their message.
    const debug = process.env.ECS_LOCAL_DEBUG && !(error instanceof CliError)
    console.error(debug ? (error as Error).stack : error instanceof Error ? error.message : String(error))
    process.exit(1)
  },
)
