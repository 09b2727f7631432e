import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { pipeline } from 'node:stream'
import { request } from 'undici'
import type { Store } from '../state.ts'
import { awsSeconds, MIN_TICK_MS, type Timings } from '../timings.ts'
import {
  actionTargetGroups,
  type ElbState,
  type ListenerRecord,
  type TargetAddress,
  type TargetGroupRecord,
  type TargetRecord,
} from './state.ts'

const REASONS = {
  registering: ['Elb.RegistrationInProgress', 'Target registration is in progress'],
  initialChecks: ['Elb.InitialHealthChecking', 'Initial health checks in progress'],
  notInUse: ['Target.NotInUse', 'Target group is not configured to receive traffic from the load balancer'],
  draining: ['Target.DeregistrationInProgress', 'Target deregistration is in progress'],
  timeout: ['Target.Timeout', 'Request timed out'],
  failed: ['Target.FailedHealthChecks', 'Health checks failed'],
} as const

function albPage(status: number, title: string): string {
  return `<html>\r\n<head><title>${status} ${title}</title></head>\r\n<body>\r\n<center><h1>${status} ${title}</h1></center>\r\n</body>\r\n</html>\r\n`
}

/** '200', '200-299', '200,202' → a test on status codes. */
export function matcher(httpCode: string): (status: number) => boolean {
  const parts = httpCode.split(',').map((part) => part.trim())
  return (status) =>
    parts.some((part) => {
      const [low, high] = part.split('-').map(Number) as [number, number | undefined]
      return high === undefined ? status === low : status >= low && status <= high
    })
}

type ProbeOutcome = { ok: true } | { ok: false; reason: string; description: string }

/**
 * How long the proxy keeps an idle connection to a target open for the next request. An ALB keeps
 * them up to its idle timeout; 4 s stays under the 5 s keep-alive of Node and uvicorn servers, so
 * no forwarded request ever meets a socket the target is closing.
 */
const IDLE_CONNECTION_MS = 4000

/** A stretch of answers the load balancer gave from unhealthy targets, failing open. */
export interface FailOpenPeriod {
  listenerArn: string
  /** First and last such answer: ISO times. */
  from: string
  to: string
  answers: number
}

/**
 * The load balancer's data plane: health checks every registered target over real HTTP with the
 * target group's settings, moves targets through initial → healthy/unhealthy → draining, and runs
 * one reverse proxy per listener that forwards to healthy targets. Like an ALB it fails open: when
 * every registered target is unhealthy it routes to all of them; with none healthy or unhealthy
 * (none registered, or all initial/draining) it answers 503; answers from a failing-open target
 * carry `x-ecs-local-routing: fail-open` and are listed in `failOpenPeriods()`.
 *
 * A draining target leaves its group as soon as it has no connection from the proxy left (in-flight
 * requests and idle keep-alive connections alike), or when the deregistration delay has passed,
 * whichever comes first, as the ELB guide describes; connections still open then are closed.
 */
export class LoadBalancing {
  private readonly store: Store<{ elb: ElbState }>
  private readonly timings: Timings
  private readonly onChange: () => void
  private readonly wakeAt: (at: number) => void
  private readonly servers = new Map<string, Server>()
  private readonly checking = new Set<string>()
  private readonly roundRobin = new Map<string, number>()
  /** Per target (`group|id|port`): the proxy's keep-alive pool and every socket it has open. */
  private readonly agents = new Map<string, Agent>()
  private readonly connections = new Map<string, Set<Socket>>()
  private readonly failOpen: (FailOpenPeriod & { open: boolean })[] = []
  private stopped = false

  /** `onChange` wakes the scheduler after a health change; `wakeAt` asks it to tick when a check is due. */
  constructor(
    store: Store<{ elb: ElbState }>,
    timings: Timings,
    onChange: () => void,
    wakeAt: (at: number) => void,
  ) {
    this.store = store
    this.timings = timings
    this.onChange = onChange
    this.wakeAt = wakeAt
  }

  private get state(): ElbState {
    return this.store.data.elb
  }

  targetGroup(arn: string): TargetGroupRecord | undefined {
    return this.state.targetGroups[arn]
  }

  /** Load balancers whose listeners forward to this target group. */
  loadBalancersOf(targetGroupArn: string): string[] {
    const arns = new Set<string>()
    for (const listener of Object.values(this.state.listeners)) {
      if (listener.defaultActions.some((a) => actionTargetGroups(a).includes(targetGroupArn))) {
        arns.add(listener.loadBalancerArn)
      }
    }
    return [...arns]
  }

  deregistrationDelayMs(targetGroupArn: string): number {
    const seconds = Number(
      this.targetGroup(targetGroupArn)?.attributes['deregistration_delay.timeout_seconds'] ?? 300,
    )
    return awsSeconds(this.timings, seconds)
  }

  findTarget(targetGroupArn: string, id: string, port: number): TargetRecord | undefined {
    return this.targetGroup(targetGroupArn)?.targets.find((t) => t.id === id && t.port === port)
  }

  registerTarget(targetGroupArn: string, id: string, port: number, address?: TargetAddress): void {
    const group = this.targetGroup(targetGroupArn)
    if (!group) return
    const now = Date.now()
    const existing = group.targets.find((t) => t.id === id && t.port === port)
    if (existing && existing.state !== 'draining') {
      if (address) existing.address = address
      return
    }
    if (existing) group.targets.splice(group.targets.indexOf(existing), 1)
    const [reason, description] = REASONS.registering
    group.targets.push({
      id,
      port,
      state: 'initial',
      reason,
      description,
      registeredAt: now,
      ...(address ? { address } : {}),
      successes: 0,
      failures: 0,
      checked: false,
      nextCheckAt: now,
    })
    this.store.changed()
    this.onChange()
  }

  /** Whether the target is still draining (a task's DEACTIVATING lasts while any of its targets is). */
  isDraining(targetGroupArn: string, id: string, port: number): boolean {
    return this.findTarget(targetGroupArn, id, port)?.state === 'draining'
  }

  /** Open connections from the proxy to a target: in-flight requests and idle keep-alive ones. */
  openConnections(targetGroupArn: string, id: string, port: number): number {
    return this.connections.get(targetKey(targetGroupArn, id, port))?.size ?? 0
  }

  /** Answers given while failing open, merged into stretches per listener. */
  failOpenPeriods(): FailOpenPeriod[] {
    return this.failOpen.map(({ open: _open, ...period }) => period)
  }

  /** Starts draining; the target leaves the group once idle, or after the deregistration delay. */
  deregisterTarget(targetGroupArn: string, id: string, port: number): void {
    const target = this.findTarget(targetGroupArn, id, port)
    if (!target || target.state === 'draining') return
    const [reason, description] = REASONS.draining
    Object.assign(target, { state: 'draining', reason, description })
    target.drainUntil = Date.now() + this.deregistrationDelayMs(targetGroupArn)
    this.store.changed()
    this.onChange()
  }

  /** Called on every scheduler tick: ends drains, starts the health checks that are due. */
  tick(now: number): void {
    for (const group of Object.values(this.state.targetGroups)) {
      const inUse = this.loadBalancersOf(group.arn).length > 0
      for (const target of [...group.targets]) {
        if (target.state === 'draining') {
          const key = targetKey(group.arn, target.id, target.port)
          const idle = (this.connections.get(key)?.size ?? 0) === 0
          if (idle || now >= (target.drainUntil ?? 0)) {
            group.targets.splice(group.targets.indexOf(target), 1)
            this.closeConnections(key)
            this.changed()
          } else this.wakeAt(target.drainUntil ?? now)
          continue
        }
        if (!inUse) {
          if (target.state !== 'unused') {
            const [reason, description] = REASONS.notInUse
            Object.assign(target, { state: 'unused', reason, description })
            this.changed()
          }
          continue
        }
        if (target.state === 'unused') {
          const [reason, description] = REASONS.registering
          Object.assign(target, { state: 'initial', reason, description, checked: false, nextCheckAt: now })
          this.changed()
        }
        if (!group.healthCheck.enabled) {
          if (target.state !== 'healthy') {
            Object.assign(target, { state: 'healthy', reason: undefined, description: undefined })
            this.changed()
          }
          continue
        }
        const key = `${group.arn}|${target.id}|${target.port}`
        if (this.checking.has(key)) continue
        if (now < target.nextCheckAt) {
          this.wakeAt(target.nextCheckAt)
          continue
        }
        this.checking.add(key)
        if (target.state === 'initial' && target.reason !== REASONS.initialChecks[0]) {
          const [reason, description] = REASONS.initialChecks
          Object.assign(target, { reason, description })
        }
        void this.probe(group, target).then((outcome) => {
          this.checking.delete(key)
          if (this.stopped || !group.targets.includes(target) || target.state === 'draining') return
          this.record(group, target, outcome)
        })
      }
    }
  }

  /** The proxy's pool for a target: its sockets are counted so a drain knows when they are gone. */
  private agentFor(target: TargetRecord, groupArn: string): Agent {
    const key = targetKey(groupArn, target.id, target.port)
    let agent = this.agents.get(key)
    if (agent) return agent
    agent = new Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS })
    this.agents.set(key, agent)
    return agent
  }

  private track(key: string, socket: Socket): void {
    let sockets = this.connections.get(key)
    if (!sockets) this.connections.set(key, (sockets = new Set()))
    if (sockets.has(socket)) return
    sockets.add(socket)
    socket.once('close', () => {
      sockets.delete(socket)
      // The last connection of a draining target gone: its deregistration completes now.
      if (sockets.size === 0) this.onChange()
    })
  }

  private closeConnections(key: string): void {
    this.agents.get(key)?.destroy()
    this.agents.delete(key)
    for (const socket of this.connections.get(key) ?? []) socket.destroy()
    this.connections.delete(key)
  }

  private noteRouting(listenerArn: string, failingOpen: boolean): void {
    let last: (FailOpenPeriod & { open: boolean }) | undefined
    for (let i = this.failOpen.length - 1; i >= 0 && !last; i--)
      if (this.failOpen[i]?.listenerArn === listenerArn) last = this.failOpen[i]
    const now = new Date().toISOString()
    if (!failingOpen) {
      if (last) last.open = false
      return
    }
    if (last?.open) {
      last.to = now
      last.answers += 1
    } else this.failOpen.push({ listenerArn, from: now, to: now, answers: 1, open: true })
  }

  private changed(): void {
    this.store.changed()
    this.onChange()
  }

  private record(group: TargetGroupRecord, target: TargetRecord, outcome: ProbeOutcome): void {
    const before = `${target.state}|${target.reason ?? ''}`
    const hc = group.healthCheck
    target.checked = true
    target.nextCheckAt = Date.now() + Math.max(awsSeconds(this.timings, hc.intervalSeconds), MIN_TICK_MS)
    if (outcome.ok) {
      target.successes += 1
      target.failures = 0
      // A newly registered target needs one passing check; an unhealthy one needs the threshold.
      if (
        target.state === 'initial' ||
        target.successes >= hc.healthyThreshold ||
        target.state === 'healthy'
      ) {
        Object.assign(target, { state: 'healthy', reason: undefined, description: undefined })
      }
    } else {
      target.failures += 1
      target.successes = 0
      if (target.state === 'unhealthy' || target.failures >= hc.unhealthyThreshold) {
        Object.assign(target, {
          state: 'unhealthy',
          reason: outcome.reason,
          description: outcome.description,
        })
      }
    }
    if (`${target.state}|${target.reason ?? ''}` !== before) this.changed()
  }

  /** Where to connect for a target and one of its ports. */
  private connectTo(target: TargetRecord, port: number): { host: string; port: number } {
    const mapped = target.address?.ports[String(port)]
    return { host: target.address?.host ?? target.id, port: mapped ?? port }
  }

  private async probe(group: TargetGroupRecord, target: TargetRecord): Promise<ProbeOutcome> {
    const hc = group.healthCheck
    const port = hc.port === 'traffic-port' ? target.port : Number(hc.port)
    const { host, port: connectPort } = this.connectTo(target, port)
    const timeoutMs = Math.max(awsSeconds(this.timings, hc.timeoutSeconds), 200)
    try {
      const response = await request(
        `http://${host}:${connectPort}${hc.path.startsWith('/') ? '' : '/'}${hc.path}`,
        {
          method: 'GET',
          reset: true,
          headers: { 'user-agent': 'ELB-HealthChecker/2.0' },
          signal: AbortSignal.timeout(timeoutMs),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
      )
      await response.body.dump()
      if (matcher(hc.httpCode)(response.statusCode)) return { ok: true }
      return {
        ok: false,
        reason: 'Target.ResponseCodeMismatch',
        description: `Health checks failed with these codes: [${response.statusCode}]`,
      }
    } catch (error) {
      const err = error as { name?: string; code?: string }
      const timedOut =
        err.name === 'TimeoutError' ||
        err.code === 'UND_ERR_HEADERS_TIMEOUT' ||
        err.code === 'UND_ERR_BODY_TIMEOUT'
      // Connection refused or reset (Docker accepts before the app listens): a failed check, not a crash.
      const [reason, description] = timedOut ? REASONS.timeout : REASONS.failed
      return { ok: false, reason, description }
    }
  }

  /** Binds the listener's port on 127.0.0.1 (another free one when taken) and records the bound port. */
  async openListener(listener: ListenerRecord): Promise<number> {
    this.closeListener(listener.arn)
    const server = createServer((req, res) => this.forward(listener.arn, req, res))
    server.keepAliveTimeout = 60_000
    const bound = await bindFirstFree(server, [listener.requestedPort, listener.port, 0])
    this.servers.set(listener.arn, server)
    if (listener.port !== bound) {
      listener.port = bound
      this.store.changed()
    }
    return bound
  }

  closeListener(arn: string): void {
    const server = this.servers.get(arn)
    if (!server) return
    this.servers.delete(arn)
    server.close()
    server.closeAllConnections()
  }

  async openAll(): Promise<void> {
    for (const listener of Object.values(this.state.listeners)) await this.openListener(listener)
  }

  private pick(
    listenerArn: string,
  ): { target: TargetRecord; groupArn: string; failingOpen: boolean } | 'none' {
    const listener = this.state.listeners[listenerArn]
    const action = listener?.defaultActions.find((a) => a.Type === 'forward')
    const groups = action ? actionTargetGroups(action).flatMap((arn) => this.targetGroup(arn) ?? []) : []
    const targets = groups.flatMap((g) => g.targets.map((target) => ({ target, groupArn: g.arn })))
    const healthy = targets.filter((t) => t.target.state === 'healthy')
    const unhealthy = targets.filter((t) => t.target.state === 'unhealthy')
    // Fail open, as ALBs do, when every routable target is unhealthy.
    const failingOpen = healthy.length === 0
    const candidates = failingOpen ? unhealthy : healthy
    if (candidates.length === 0) return 'none'
    const turn = (this.roundRobin.get(listenerArn) ?? 0) + 1
    this.roundRobin.set(listenerArn, turn)
    const chosen = candidates[turn % candidates.length]
    return chosen ? { ...chosen, failingOpen } : 'none'
  }

  private forward(listenerArn: string, req: IncomingMessage, res: ServerResponse): void {
    const listener = this.state.listeners[listenerArn]
    const fixed = listener?.defaultActions.find((a) => a.Type === 'fixed-response')?.FixedResponseConfig
    if (fixed) {
      res.writeHead(Number(fixed.StatusCode ?? 200), { 'content-type': fixed.ContentType ?? 'text/plain' })
      res.end(fixed.MessageBody ?? '')
      return
    }
    const picked = this.pick(listenerArn)
    this.noteRouting(listenerArn, picked !== 'none' && picked.failingOpen)
    if (picked === 'none') {
      res.writeHead(503, { server: 'awselb/2.0', 'content-type': 'text/html' })
      res.end(albPage(503, 'Service Temporarily Unavailable'))
      req.resume()
      return
    }
    const { target, groupArn, failingOpen } = picked
    const { host, port } = this.connectTo(target, target.port)
    const key = targetKey(groupArn, target.id, target.port)
    const upstream = httpRequest(
      {
        host,
        port,
        method: req.method,
        path: req.url,
        agent: this.agentFor(target, groupArn),
        headers: {
          ...req.headers,
          'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1',
          'x-forwarded-proto': 'http',
          'x-forwarded-port': String(listener?.port ?? ''),
        },
        timeout: 60_000,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, {
          ...answer.headers,
          ...(failingOpen ? { 'x-ecs-local-routing': 'fail-open' } : {}),
        })
        // A target that goes away mid-answer (a drain's end, a crash) ends the client's answer too.
        pipeline(answer, res, () => undefined)
      },
    )
    upstream.on('socket', (socket) => this.track(key, socket))
    // The client went away mid-answer: so does the connection to the target, as on an ALB.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy()
    })
    upstream.on('timeout', () => upstream.destroy(new Error('idle timeout')))
    upstream.on('error', (error) => {
      if (res.headersSent) {
        res.destroy()
        return
      }
      const timedOut = error.message === 'idle timeout'
      res.writeHead(timedOut ? 504 : 502, { server: 'awselb/2.0', 'content-type': 'text/html' })
      res.end(timedOut ? albPage(504, 'Gateway Time-out') : albPage(502, 'Bad Gateway'))
    })
    req.pipe(upstream)
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const arn of [...this.servers.keys()]) this.closeListener(arn)
    for (const key of [...this.agents.keys(), ...this.connections.keys()]) this.closeConnections(key)
  }
}

function targetKey(targetGroupArn: string, id: string, port: number): string {
  return `${targetGroupArn}|${id}|${port}`
}

async function bindFirstFree(server: Server, ports: number[]): Promise<number> {
  for (const port of ports) {
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error)
        server.once('error', onError)
        server.listen(port, '127.0.0.1', () => {
          server.off('error', onError)
          resolve()
        })
      })
      return (server.address() as AddressInfo).port
    } catch (error) {
      const code = (error as { code?: string }).code
      if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error
    }
  }
  throw new Error('no port could be bound for the listener')
}
