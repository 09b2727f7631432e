import * as log from '@ecs-lockstep/core/log'
import type { Output } from './inputs.ts'
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import {
  ActionError,
  type ActionContext,
  RequestError,
  formatDuration,
  maskSecret,
  toSeconds,
  waitFor,
} from '@ecs-lockstep/core'
import { aws } from '@ecs-lockstep/core/aws/errors'
import {
  createServiceClients,
  type ServiceClients,
  readTargetHealth,
  targetGroupsOf,
  tolerateTransient,
  describeService,
  primaryDeployment,
  tagService,
  TAG_VERIFIED,
  type ServiceRef,
  stateNow,
  shortRevision,
} from '@ecs-lockstep/ecs-deploy'
import { send, type ProbeResult } from '@ecs-lockstep/core/http'
import type { ApiUser, HttpCheck } from './checks.ts'
import { TaskWatch } from './task-watch.ts'

export interface VerifyPlan {
  url: string | undefined
  ref: ServiceRef | undefined
  region: string | undefined
  checks: HttpCheck[]
  consecutive: number
  /** The checks keep passing, and no task of the revision stops or is replaced, for at least this long. */
  stableForMs: number
  singleWriter: 'auto' | 'true' | 'false'
  deadline: number
  users: ApiUser[]
  registerPath: string
  tokenPath: string
  /** How the app's register and token endpoints want their requests, and where the token comes back. */
  requests: {
    registerFormat: 'json' | 'form'
    tokenFormat: 'json' | 'form'
    usernameField: string
    passwordField: string
    tokenField: string
  }
  recordVerified: boolean
}

const ROUND_INTERVAL = { minMs: 1000, maxMs: 2000, factor: 1.25 }

/** `http://<DNS name>:<port>` of the load balancer in front of the service's first target group. */
async function loadBalancerUrl(clients: ServiceClients, targetGroupArn: string): Promise<string> {
  const groups = await aws('describing the target group', () =>
    clients.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] })),
  )
  const lbArn = groups.TargetGroups?.[0]?.LoadBalancerArns?.[0]
  if (!lbArn)
    throw new ActionError(`Target group ${targetGroupArn} is attached to no load balancer; set url.`)
  const [lbs, listeners] = await Promise.all([
    aws('describing the load balancer', () =>
      clients.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lbArn] })),
    ),
    aws('describing the listeners', () =>
      clients.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn })),
    ),
  ])
  const dns = lbs.LoadBalancers?.[0]?.DNSName
  const listener = listeners.Listeners?.find((l) => l.Protocol === 'HTTP') ?? listeners.Listeners?.[0]
  if (!dns || !listener) throw new ActionError('The load balancer has no DNS name or listener; set url.')
  return `${(listener.Protocol ?? 'HTTP').toLowerCase()}://${dns}:${listener.Port}`
}

async function waitForTargets(
  clients: ServiceClients,
  targetGroups: string[],
  plan: VerifyPlan,
  signal: AbortSignal,
) {
  await waitFor({
    what: 'the load balancer targets to be healthy',
    deadline: plan.deadline,
    signal,
    interval: ROUND_INTERVAL,
    onProgress: (p) => log.info(`  ${p}`),
    observe: tolerateTransient(async () => {
      const { healthy, notReady } = await readTargetHealth(clients, targetGroups)
      return healthy > 0 && notReady.length === 0
        ? { done: true, value: undefined }
        : { done: false, progress: notReady.join(', ') || 'no targets registered' }
    }),
  })
}

/** The value at a dotted path of parsed JSON (`checks.vector_store`, `items.0.id`). */
function at(value: unknown, path: string): { found: boolean; value?: unknown } {
  let current: unknown = value
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !(key in (current as object)))
      return { found: false }
    current = (current as Record<string, unknown>)[key]
  }
  return { found: true, value: current }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

const BODY_SHOWN = 500

/** Whether one answer passes the check, and a line saying why not (status, first 500 bytes of the body). */
export function judgeAnswer(check: HttpCheck, answer: ProbeResult): { ok: boolean; text: string } {
  if (!answer.ok) return { ok: false, text: answer.error }
  const body = answer.body.slice(0, BODY_SHOWN)
  const fail = (why: string) => ({
    ok: false,
    text: `answered ${answer.status} in ${answer.ms}ms ${why}: ${body}`,
  })
  if (!check.status.includes(answer.status))
    return { ok: false, text: `answered ${answer.status} (expected ${check.status.join(' or ')}): ${body}` }
  if (check.maxLatencyMs !== undefined && answer.ms > check.maxLatencyMs)
    return {
      ok: false,
      text: `answered ${answer.status} in ${answer.ms}ms, slower than max-latency ${check.maxLatencyMs}ms`,
    }
  if (check.contains && !answer.body.includes(check.contains))
    return fail(`without ${JSON.stringify(check.contains)}`)
  if (check.pattern && !check.pattern.test(answer.body)) return fail(`not matching ${String(check.pattern)}`)
  if (check.json.length > 0) {
    let parsed: unknown
    try {
      parsed = JSON.parse(answer.body)
    } catch {
      return fail('with a body that is not JSON')
    }
    for (const expected of check.json) {
      const found = at(parsed, expected.path)
      if (!found.found) return fail(`without ${expected.path}`)
      if ('equals' in expected && !sameJson(found.value, expected.equals))
        return fail(
          `with ${expected.path} = ${JSON.stringify(found.value)?.slice(0, 100)} (expected ${JSON.stringify(expected.equals)})`,
        )
    }
  }
  return { ok: true, text: `${answer.status} in ${answer.ms}ms` }
}

function describeCheck(check: HttpCheck): string {
  const target = check.path ?? check.url
  const expectations = [
    `expect ${check.status.join('/')}`,
    ...(check.contains ? [`containing ${check.contains}`] : []),
    ...(check.pattern ? [`matching ${String(check.pattern)}`] : []),
    ...check.json.map((j) =>
      'equals' in j ? `${j.path} = ${JSON.stringify(j.equals)}` : `${j.path} present`,
    ),
    ...(check.maxLatencyMs !== undefined ? [`within ${check.maxLatencyMs}ms`] : []),
  ]
  const label = check.name === target ? '' : `${check.name}: `
  return `${label}${check.method} ${target} (${expectations.join(', ')})`
}

/** What the `report` output says of each check: JSON a later step can read. */
interface CheckRecord {
  name: string
  method: string
  target: string
  attempts: number
  passes: number
  streak: number
  ok: boolean
  lastStatus?: number
  lastLatencyMs?: number
  error?: string
}

/**
 * Every check must pass `consecutive` rounds in a row, the rounds spanning at least `stableForMs`,
 * while no task of the revision stops or is replaced: one lucky answer from a flapping task, or a
 * few quick ones from a task about to crash, is not health. The checks of a round run concurrently,
 * each with its own streak, so a slow check does not hold the others back.
 */
async function runChecks(
  ctx: ActionContext<Output>,
  url: string,
  plan: VerifyPlan,
  signal: AbortSignal,
): Promise<void> {
  const records: CheckRecord[] = plan.checks.map((check) => ({
    name: check.name,
    method: check.method,
    target: check.path ?? (check.url as string),
    attempts: 0,
    passes: 0,
    streak: 0,
    ok: false,
  }))
  let last: { check: HttpCheck; ok: boolean; text: string }[] = []
  const began = Date.now()
  try {
    await waitFor({
      what: `every check to pass ${plan.consecutive} time(s) in a row${plan.stableForMs > 0 ? ` over at least ${formatDuration(plan.stableForMs)}` : ''}`,
      deadline: plan.deadline,
      signal,
      interval: ROUND_INTERVAL,
      onProgress: (p) => log.info(`  ${p}`),
      observe: async () => {
        last = await Promise.all(
          plan.checks.map(async (check, index) => {
            const answer = await send(check.method, check.url ?? `${url}${check.path}`, {
              timeoutMs: Math.max(5000, (check.maxLatencyMs ?? 0) + 1000),
              signal,
              headers: check.headers,
              ...(check.body !== undefined ? { body: check.body } : {}),
              maxBodyBytes: 64 * 1024,
            })
            const result = judgeAnswer(check, answer)
            const record = records[index] as CheckRecord
            record.attempts += 1
            record.ok = result.ok
            record.streak = result.ok ? record.streak + 1 : 0
            if (result.ok) record.passes += 1
            if (answer.ok) record.lastStatus = answer.status
            record.lastLatencyMs = answer.ms
            if (result.ok) delete record.error
            else record.error = result.text
            return { check, ...result }
          }),
        )
        const failing = last.filter((r) => !r.ok)
        const streak = Math.min(...records.map((r) => r.streak))
        const spanned = Date.now() - began >= plan.stableForMs
        if (streak >= plan.consecutive && spanned) return { done: true, value: undefined }
        return {
          done: false,
          progress: failing.length
            ? failing.map((r) => `${r.check.method} ${r.check.name}: ${r.text}`).join('; ')
            : streak >= plan.consecutive
              ? `all checks pass; watching for ${formatDuration(plan.stableForMs)} (stable-for)`
              : `all checks passed (${streak}/${plan.consecutive} in a row)`,
        }
      },
    })
  } finally {
    ctx.output('report', JSON.stringify({ url, consecutive: plan.consecutive, checks: records }))
    ctx.report.section(
      'Checks (last round)',
      last.map((r) => `${r.ok ? 'PASS' : 'FAIL'} ${describeCheck(r.check)}: ${r.text}`).join('\n'),
      { open: true },
    )
  }
}

/** A request body as the endpoint wants it: JSON, or an HTML form (OAuth2's password grant). */
function encoded(format: 'json' | 'form', fields: Record<string, string>) {
  return format === 'json'
    ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields) }
    : {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      }
}

/** Registers each user (an existing one is fine) and logs in as it: the token must come back. */
async function createUsers(url: string, plan: VerifyPlan, signal: AbortSignal): Promise<string[]> {
  const fields = plan.requests
  const done: string[] = []
  for (const user of plan.users) {
    const credentials = { [fields.usernameField]: user.username, [fields.passwordField]: user.password }
    const registered = await send('POST', `${url}${plan.registerPath}`, {
      timeoutMs: 10_000,
      signal,
      ...encoded(fields.registerFormat, credentials),
    })
    if (!registered.ok) throw new ActionError(`Registering ${user.username} failed: ${registered.error}.`)
    const exists =
      registered.status === 409 || (registered.status === 400 && /exist|taken|already/i.test(registered.body))
    if (registered.status >= 300 && !exists) {
      throw new ActionError(
        `Registering ${user.username} answered ${registered.status}: ${registered.body.slice(0, 300)}`,
      )
    }
    const token = await send('POST', `${url}${plan.tokenPath}`, {
      timeoutMs: 10_000,
      signal,
      ...encoded(fields.tokenFormat, credentials),
    })
    let accessToken: string | undefined
    if (token.ok && token.status === 200) {
      try {
        const found = at(JSON.parse(token.body), fields.tokenField)
        accessToken = typeof found.value === 'string' && found.value ? found.value : undefined
      } catch {
        accessToken = undefined
      }
    }
    maskSecret(accessToken)
    if (!accessToken) {
      throw new ActionError(
        `${user.username} was ${exists ? 'already there' : 'created'} but cannot log in: ${
          !token.ok
            ? token.error
            : token.status === 200
              ? `answered 200 without a token at ${fields.tokenField} (the body is not shown: it may hold one; see token-field)`
              : `answered ${token.status}: ${token.body.slice(0, 300)}`
        }.`,
        {
          hint: exists
            ? 'The user exists with another password: change it in the app, or in create-users.'
            : undefined,
        },
      )
    }
    log.info(`${user.username}: ${exists ? 'already existed' : 'created'}, logs in.`)
    done.push(user.username)
  }
  return done
}

/**
 * Runs the verification; a failure about a service ends with the service's state as ECS reports it,
 * so the log says what is running, not only what did not answer.
 */
export async function verifyHealth(ctx: ActionContext<Output>, plan: VerifyPlan): Promise<void> {
  const clients = plan.ref && plan.region ? createServiceClients(plan.region) : undefined
  try {
    await verify(ctx, plan, clients)
  } catch (error) {
    if (!clients || !plan.ref || ctx.signal.aborted || !(error instanceof ActionError)) throw error
    // A wrong cluster or service: the action names its input; there is no state to read.
    if (error instanceof RequestError) throw error
    if (error.message.includes('State now')) throw error
    const { line } = await stateNow(clients, plan.ref)
    throw new ActionError(`${error.message}\n${line}`, { hint: error.hint, cause: error })
  }
}

async function verify(
  ctx: ActionContext<Output>,
  plan: VerifyPlan,
  clients: ServiceClients | undefined,
): Promise<void> {
  const started = Date.now()
  let url = plan.url
  let revision: string | undefined
  let watch: TaskWatch | undefined
  try {
    ;({ url, revision, watch } = await checkAll(ctx, plan, clients, started, (w) => (watch = w)))
  } catch (error) {
    // A failed task explains the failure better than the wait it cut short.
    if (!watch || ctx.signal.aborted || (!watch.found && !watch.failure)) {
      await watch?.end(plan.deadline).catch(() => undefined)
      throw error
    }
  }
  await watch?.end(plan.deadline)

  if (clients && plan.ref && revision && plan.recordVerified) {
    const ref = plan.ref
    await ctx.phase('Record', async () => {
      // Only record what still runs, unchanged: a task that stopped meanwhile was not verified.
      const problem = await watch?.problem()
      if (problem && watch) await watch.fail(problem, plan.deadline)
      const service = await describeService(clients, ref)
      if (primaryDeployment(service)?.taskDefinition !== revision) {
        throw new ActionError(
          `The service moved from ${shortRevision(revision)} to ${shortRevision(service.taskDefinition)} while being verified; not recording it.`,
        )
      }
      await tagService(
        clients,
        service,
        {
          [TAG_VERIFIED]: revision as string,
          'ecs-lockstep:verified-at': new Date().toISOString(),
        },
        `rollback will not know ${TAG_VERIFIED}`,
      )
      log.info(`Recorded ${shortRevision(revision)} as verified healthy on ${ref.service}.`)
    })
    ctx.output('verified-task-definition', revision)
  }
  ctx.report.headline = `${url as string} healthy (${plan.checks.length} check(s) × ${plan.consecutive}) in ${formatDuration(Date.now() - started)}`
}

/** The load balancer, the HTTP checks and the users, every wait cut short by the task watch. */
async function checkAll(
  ctx: ActionContext<Output>,
  plan: VerifyPlan,
  clients: ServiceClients | undefined,
  started: number,
  watching: (watch: TaskWatch) => void,
): Promise<{ url: string; revision: string | undefined; watch: TaskWatch | undefined }> {
  let url = plan.url
  let revision: string | undefined
  let watch: TaskWatch | undefined
  let signal = ctx.signal
  if (clients && plan.ref) {
    const ref = plan.ref
    const targetGroups = await ctx.phase('Load balancer', async () => {
      const service = await describeService(clients, ref)
      const primary = primaryDeployment(service)
      revision = primary?.taskDefinition
      if ((service.deployments?.length ?? 0) > 1 || primary?.rolloutState === 'IN_PROGRESS') {
        log.warning(`A deployment of ${ref.service} is still in progress; verifying what answers now.`)
      }
      watch = await TaskWatch.start(clients, ref, plan.singleWriter)
      if (watch) {
        watching(watch)
        watch.begin()
        signal = AbortSignal.any([ctx.signal, watch.signal])
      }
      const groups = targetGroupsOf(service)
      if (!url && groups[0]) url = await loadBalancerUrl(clients, groups[0])
      if (groups.length > 0) await waitForTargets(clients, groups, plan, signal)
      else log.info('The service has no load balancer; checking the URL only.')
      return groups
    })
    ctx.report.fact('Revision', shortRevision(revision))
    ctx.report.fact('Target groups', targetGroups.length)
  }
  if (!url)
    throw new ActionError(
      'No URL to check: set url, or cluster and service of a service behind a load balancer.',
    )
  ctx.output('url', url)
  ctx.report.fact('URL', url)

  await ctx.phase('HTTP checks', () => runChecks(ctx, url as string, plan, signal))
  ctx.output('seconds-to-verified', toSeconds(Date.now() - started))

  if (plan.users.length > 0) {
    const users = await ctx.phase('API users', () => createUsers(url as string, plan, signal))
    ctx.output('users', users.join(','))
    ctx.report.fact('API users', users.join(', '))
  }

  return { url, revision, watch }
}
