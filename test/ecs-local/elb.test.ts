import { afterAll, describe, expect, it } from '@jest/globals'
import { CreateServiceCommand, InvalidParameterException, UpdateServiceCommand } from '@aws-sdk/client-ecs'
import {
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { ZERO_TIMINGS } from '@ecs-lockstep/ecs-local'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  CLUSTER,
  NETWORK,
  createBalancer,
  describeService,
  describeTasks,
  holdConnection,
  messages,
  registerTaskDefinition,
  targetStates,
  tasksOf,
  until,
  useLocal,
} from './support.ts'

// awsSecondsScale 0.01: health checks every 50 ms, a 20 s deregistration delay lasts 200 ms.
const h = useLocal({
  runtime: 'simulated',
  timings: { ...ZERO_TIMINGS, awsSecondsScale: 0.01 },
  simulated: { images: { 'sick:': { healthy: false } }, holdPath: '/stream' },
})

const servers: Server[] = []
afterAll(() => servers.forEach((s) => s.close()))

/** A plain HTTP server answering every request with `status`. */
async function answering(status: number): Promise<number> {
  const server = createServer((_req, res) => {
    res.writeHead(status)
    res.end(`answered ${status}`)
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

async function get(url: string): Promise<{ status: number; body: string; routing: string | null }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
  return {
    status: response.status,
    body: await response.text(),
    routing: response.headers.get('x-ecs-local-routing'),
  }
}

/** How long the service's one task spends in DEACTIVATING after a scale-down to 0, in ms. */
async function deactivatingMs(service: string): Promise<number> {
  const { ecs } = h.clients
  const [arn] = await tasksOf(ecs, service)
  await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service, desiredCount: 0 }))
  const history = await until(
    async () => {
      const timeline = h.local.report().timelines.find((t) => t.taskArn === arn)
      return timeline?.lastStatus === 'STOPPED' && timeline.history
    },
    { timeoutMs: 40_000, what: `the task of ${service} to stop` },
  )
  const at = (status: string) => Date.parse(history.find((e) => e.status === status)?.at ?? '')
  return at('STOPPING') - at('DEACTIVATING')
}

async function runningBehind(name: string, deregistrationDelaySeconds: number) {
  const lb = await createBalancer(h.clients.elb, name, { deregistrationDelaySeconds })
  await serviceBehind(name, 'app:1', lb.targetGroupArn)
  await until(async () => (await targetStates(h.clients.elb, lb.targetGroupArn))[0]?.state === 'healthy')
  return lb
}

async function serviceBehind(name: string, image: string, targetGroupArn: string): Promise<string> {
  const td = await registerTaskDefinition(
    h.clients.ecs,
    [{ name: 'api', image, portMappings: [{ containerPort: 8000 }] }],
    {
      family: name,
    },
  )
  await h.clients.ecs.send(
    new CreateServiceCommand({
      cluster: CLUSTER,
      serviceName: name,
      taskDefinition: td,
      desiredCount: 1,
      launchType: 'FARGATE',
      networkConfiguration: NETWORK,
      loadBalancers: [{ targetGroupArn, containerName: 'api', containerPort: 8000 }],
    }),
  )
  return td
}

describe('Elastic Load Balancing (simulated tasks, real HTTP)', () => {
  it('registers a task as an ip target, health-checks it to healthy, and routes the listener to it', async () => {
    const { ecs, elb } = h.clients
    const lb = await createBalancer(elb, 'web', { deregistrationDelaySeconds: 20 })
    await serviceBehind('web', 'app:1', lb.targetGroupArn)
    const service = await until(async () => {
      const s = await describeService(ecs, 'web')
      return s.deployments?.[0]?.rolloutState === 'COMPLETED' && s
    })
    const [task] = await describeTasks(ecs, await tasksOf(ecs, 'web'))
    const ip = task?.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value
    const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: lb.targetGroupArn }))
    expect(health.TargetHealthDescriptions).toEqual([
      { Target: { Id: ip, Port: 8000 }, HealthCheckPort: '8000', TargetHealth: { State: 'healthy' } },
    ])
    expect(messages(service)).toContain(
      `(service web) registered 1 targets in (target-group ${lb.targetGroupArn})`,
    )

    const answer = await get(`${lb.url}/api/v1/me`)
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toMatchObject({
      runtimeId: task?.containers?.[0]?.runtimeId,
      path: '/api/v1/me',
    })
    const listeners = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.loadBalancerArn }))
    expect(lb.url).toBe(`http://127.0.0.1:${listeners.Listeners?.[0]?.Port}`)
  })

  it('drains a stopping task: the target is draining, the listener stops sending to it, then it is gone', async () => {
    const { ecs, elb } = h.clients
    const lb = await createBalancer(elb, 'drainer', { deregistrationDelaySeconds: 20 })
    await serviceBehind('drainer', 'app:1', lb.targetGroupArn)
    await until(
      async () => (await describeService(ecs, 'drainer')).deployments?.[0]?.rolloutState === 'COMPLETED',
    )
    expect((await get(lb.url)).status).toBe(200)
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'drainer', desiredCount: 0 }))
    const draining = await until(async () => {
      const [target] = await targetStates(elb, lb.targetGroupArn)
      return target?.state === 'draining' && target
    })
    expect(draining.reason).toBe('Target.DeregistrationInProgress')
    const unavailable = await get(lb.url)
    expect(unavailable.status).toBe(503)
    expect(unavailable.body).toContain('503 Service Temporarily Unavailable')
    await until(async () => (await targetStates(elb, lb.targetGroupArn)).length === 0, {
      what: 'the drain to end',
    })
  })

  // 3,000 s at this scale is 30 s: a drain that waited for the delay would outlast each bound below.
  it('completes a deregistration at once when the target has no connection left, as the ELB guide says', async () => {
    const lb = await runningBehind('idle', 3000)
    expect(await deactivatingMs('idle')).toBeLessThan(1000)
    expect((await targetStates(h.clients.elb, lb.targetGroupArn)).length).toBe(0)
  })

  it('keeps a target draining while a request is in flight, and completes it when that connection closes', async () => {
    const lb = await runningBehind('inflight', 3000)
    const drop = await holdConnection(`${lb.url}/stream`)
    const measured = deactivatingMs('inflight')
    await until(async () => (await targetStates(h.clients.elb, lb.targetGroupArn))[0]?.state === 'draining')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect((await targetStates(h.clients.elb, lb.targetGroupArn))[0]?.state).toBe('draining')
    drop()
    const ms = await measured
    expect(ms).toBeGreaterThanOrEqual(1500)
    expect(ms).toBeLessThan(10_000)
  })

  it("counts the proxy's idle keep-alive connection to the target until it is closed (4 s idle)", async () => {
    const lb = await runningBehind('keepalive', 3000)
    expect((await get(`${lb.url}/api`)).status).toBe(200)
    const ms = await deactivatingMs('keepalive')
    expect(ms).toBeGreaterThan(1000)
    expect(ms).toBeLessThan(8000)
  })

  it("ends the deregistration delay by closing the connections still open, the client's answer with them", async () => {
    const lb = await runningBehind('delayed', 100)
    const { request } = await import('node:http')
    const clientSawEnd = new Promise<number>((resolve) => {
      const req = request(`${lb.url}/stream`, (res) => {
        res.on('data', () => undefined)
        res.on('error', () => undefined)
        res.on('close', () => resolve(Date.now()))
      })
      req.on('error', () => resolve(Date.now()))
      req.end()
    })
    await new Promise((resolve) => setTimeout(resolve, 200))
    const scaledDownAt = Date.now()
    const ms = await deactivatingMs('delayed')
    expect(ms).toBeGreaterThanOrEqual(900)
    expect(ms).toBeLessThan(5000)
    // An ALB closes the client's side when it closes the target's: the client can reconnect.
    expect((await clientSawEnd) - scaledDownAt).toBeLessThan(5000)
  })

  it('routes only to healthy targets, answers 503 with none, and fails open when every target is unhealthy', async () => {
    const { elb } = h.clients
    const lb = await createBalancer(elb, 'manual')
    const bad = await answering(500)
    await elb.send(
      new RegisterTargetsCommand({
        TargetGroupArn: lb.targetGroupArn,
        Targets: [{ Id: '127.0.0.1', Port: bad }],
      }),
    )
    const unhealthy = await until(async () => {
      const [target] = await targetStates(elb, lb.targetGroupArn)
      return target?.state === 'unhealthy' && target
    })
    expect(unhealthy.reason).toBe('Target.ResponseCodeMismatch')
    const described = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: lb.targetGroupArn }))
    expect(described.TargetHealthDescriptions?.[0]?.TargetHealth?.Description).toBe(
      'Health checks failed with these codes: [500]',
    )
    // Fail open, like an ALB: only unhealthy targets, so they get the traffic, marked as such.
    expect(await get(lb.url)).toEqual({ status: 500, body: 'answered 500', routing: 'fail-open' })
    expect(await get(lb.url)).toMatchObject({ routing: 'fail-open' })
    const listenerArn = (
      await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.loadBalancerArn }))
    ).Listeners?.[0]?.ListenerArn
    const periods = () => h.local.report().failOpen.filter((p) => p.listenerArn === listenerArn)
    expect(periods()).toEqual([{ listenerArn, from: expect.any(String), to: expect.any(String), answers: 2 }])

    const good = await answering(200)
    await elb.send(
      new RegisterTargetsCommand({
        TargetGroupArn: lb.targetGroupArn,
        Targets: [{ Id: '127.0.0.1', Port: good }],
      }),
    )
    await until(async () => (await targetStates(elb, lb.targetGroupArn)).some((t) => t.state === 'healthy'))
    for (let i = 0; i < 6; i += 1)
      expect(await get(lb.url)).toEqual({ status: 200, body: 'answered 200', routing: null })
    expect(periods()).toHaveLength(1)

    const empty = await createBalancer(elb, 'empty')
    expect((await get(empty.url)).status).toBe(503)
    const never = await elb.send(
      new DescribeTargetHealthCommand({
        TargetGroupArn: empty.targetGroupArn,
        Targets: [{ Id: '10.0.0.9', Port: 8000 }],
      }),
    )
    expect(never.TargetHealthDescriptions?.[0]?.TargetHealth).toEqual({
      State: 'unused',
      Reason: 'Target.NotRegistered',
      Description: 'Target is not registered to the target group',
    })
  })

  it('replaces a task that fails its load balancer health checks, saying which target group and why', async () => {
    const { ecs, elb } = h.clients
    const lb = await createBalancer(elb, 'sick')
    await serviceBehind('sick-lb', 'sick:1', lb.targetGroupArn)
    const stopped = await until(
      async () => (await describeTasks(ecs, await tasksOf(ecs, 'sick-lb', 'STOPPED')))[0],
    )
    expect(stopped.stoppedReason).toBe(`Task failed ELB health checks in (target-group ${lb.targetGroupArn})`)
    expect(stopped.stopCode).toBe('ServiceSchedulerInitiated')
    const id = stopped.taskArn?.split('/').pop()
    expect(messages(await describeService(ecs, 'sick-lb'))).toContain(
      `(service sick-lb) (task ${id}) (port 8000) is unhealthy in (target-group ${lb.targetGroupArn}) due to (reason Health checks failed with these codes: [503]).`,
    )
  })

  it('rejects services whose target group cannot take their tasks, in ECS words', async () => {
    const { ecs, elb } = h.clients
    const td = await registerTaskDefinition(ecs, [
      { name: 'api', image: 'app:1', portMappings: [{ containerPort: 8000 }] },
    ])
    const attempt = (targetGroupArn: string, containerPort = 8000) =>
      ecs
        .send(
          new CreateServiceCommand({
            cluster: CLUSTER,
            serviceName: `rejected-${containerPort}`,
            taskDefinition: td,
            desiredCount: 1,
            networkConfiguration: NETWORK,
            loadBalancers: [{ targetGroupArn, containerName: 'api', containerPort }],
          }),
        )
        .catch((e: unknown) => e)
    const lonely = await elb.send(
      new CreateTargetGroupCommand({
        Name: 'lonely',
        Protocol: 'HTTP',
        Port: 8000,
        VpcId: 'vpc-0123',
        TargetType: 'ip',
      }),
    )
    const lonelyArn = lonely.TargetGroups?.[0]?.TargetGroupArn as string
    const noLb = await attempt(lonelyArn)
    expect(noLb).toBeInstanceOf(InvalidParameterException)
    expect((noLb as Error).message).toBe(
      `The target group with targetGroupArn ${lonelyArn} does not have an associated load balancer.`,
    )
    const lb = await createBalancer(elb, 'ports')
    expect(((await attempt(lb.targetGroupArn, 9000)) as Error).message).toBe(
      'The container api did not have a container port 9000 defined.',
    )
    const missing = lb.targetGroupArn.replace(/\/[0-9a-f]{16}$/, '/0000000000000000')
    expect(((await attempt(missing)) as Error).message).toMatch(
      /^Unable to assume role and validate the specified targetGroupArn/,
    )
  })
})
