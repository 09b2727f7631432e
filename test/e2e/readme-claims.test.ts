import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs'
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { runAction, type RunOptions } from '@ecs-lockstep/action-runner'
import { startEcsLocal, type EcsLocal } from '@ecs-lockstep/ecs-local'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSampleStack, type Stack } from '../../examples/sample-backend/stack.ts'
import { keepLongPollOpen } from '../support/load-balancer.ts'

jest.setTimeout(120_000)

/**
 * Claims the action READMEs make that no other test checks, each through the bundles on ecs-local's
 * simulated runtime: drain-and-deploy's deregistration-delay warning, its masking of and warning
 * about credential-like environment values, and verify-health's `record-verified: false`.
 */
const CLUSTER = 'claims-cluster'
const SERVICE = 'claims-backend'
const TAG_VERIFIED = 'ecs-lockstep:verified-task-definition'
let local: EcsLocal
let stack: Stack
let stateDir = ''

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'ecs-local-claims-'))
  local = await startEcsLocal({
    runtime: 'simulated',
    stateDir,
    // AWS's seconds at a twentieth: a 60 s deregistration delay lasts 3 s.
    timings: { awsSecondsScale: 0.05 },
    // A client's long poll (keepLongPollOpen) keeps a draining target busy for its whole delay.
    simulated: { defaultBehaviour: { takesLock: true, startMs: 200 }, holdPath: '/stream' },
  })
  stack = await createSampleStack(local, {
    cluster: CLUSTER,
    service: SERVICE,
    image: 'wwhd-dev-backend:v1',
    jwtSecret: 'claims',
  })
})
afterAll(async () => {
  await local?.stop()
  rmSync(stateDir, { recursive: true, force: true })
})

const run = (action: string, inputs: Record<string, string>, options: RunOptions = {}) =>
  runAction(action, { inputs, timeoutMs: 90_000, ...options, env: { ...local.awsEnv(), ...options.env } })
const deploy = (inputs: Record<string, string>) =>
  run('drain-and-deploy', {
    cluster: CLUSTER,
    service: SERVICE,
    'container-name': 'fastapi',
    'stable-for': '1s',
    ...inputs,
  })

function elbClient() {
  return new ElasticLoadBalancingV2Client({
    endpoint: local.endpoint,
    region: local.region,
    credentials: { accessKeyId: 'AKIACLAIMS', secretAccessKey: 'x' },
  })
}

async function deregistrationDelay(): Promise<string | undefined> {
  const reply = await elbClient().send(
    new DescribeTargetGroupAttributesCommand({ TargetGroupArn: stack.targetGroupArn }),
  )
  return reply.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value
}

async function setDeregistrationDelay(seconds: number) {
  const elb = elbClient()
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: stack.targetGroupArn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(seconds) }],
    }),
  )
}

async function service() {
  return (
    await stack.ecs.send(
      new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE], include: ['TAGS'] }),
    )
  ).services?.[0]
}

describe('what the READMEs promise', () => {
  it('drain-and-deploy warns when the deregistration delay makes the drain slow, with the command that shortens it', async () => {
    await setDeregistrationDelay(60)
    const slow = await deploy({ image: 'wwhd-dev-backend:v2' })
    expect(slow.errors).toEqual([])
    expect(slow.warnings).toContainEqual(
      expect.stringMatching(
        /^Draining will take up to 70s: target group arn:\S+ keeps each stopped task DEACTIVATING for its deregistration delay \(60s\) before ECS sends SIGTERM\. .*aws elbv2 modify-target-group-attributes --target-group-arn arn:\S+ --attributes Key=deregistration_delay\.timeout_seconds,Value=5\)\.$/,
      ),
    )
    expect(slow.log).toContain('Expected drain: up to ~70s (deregistration delay 60s + stop timeout 10s)')
    await setDeregistrationDelay(5)
    const quick = await deploy({ image: 'wwhd-dev-backend:v3' })
    expect(quick.errors).toEqual([])
    expect(quick.warnings.filter((w) => w.startsWith('Draining will take'))).toEqual([])
  })

  it('drain-and-deploy masks credential-like environment values and says to move them into secrets', async () => {
    const value = 'hunter2-correct-horse-0c1d'
    const deployed = await deploy({
      image: 'wwhd-dev-backend:v4',
      'environment-variables': `LOG_LEVEL=info\nDB_PASSWORD=${value}`,
    })
    expect(deployed.errors).toEqual([])
    expect(deployed.warnings).toContainEqual(
      expect.stringContaining('environment-variables sets DB_PASSWORD, which looks like a credential'),
    )
    // Masked before anything could print it: the runner hides it, and it never appears unmasked.
    expect(deployed.commands).toContainEqual(expect.objectContaining({ name: 'add-mask', value }))
    expect(deployed.unmasked).not.toContain(value)
    expect(deployed.summary).not.toContain(value)
    // Still deployed as asked: the warning does not change the revision.
    const definition = (
      await stack.ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: deployed.outputs['task-definition-arn'] }),
      )
    ).taskDefinition
    const environment = definition?.containerDefinitions?.find((c) => c.name === 'fastapi')?.environment
    expect(environment).toContainEqual({ name: 'DB_PASSWORD', value })
  })

  it('verify-health with record-verified: false verifies without tagging the revision', async () => {
    const before = (await service())?.tags?.find((t) => t.key === TAG_VERIFIED)?.value
    const verified = await run('verify-health', {
      cluster: CLUSTER,
      service: SERVICE,
      'stable-for': '1s',
      'record-verified': 'false',
    })
    expect(verified.errors).toEqual([])
    expect(verified.outputs['verified-task-definition'] ?? '').toBe('')
    expect((await service())?.tags?.find((t) => t.key === TAG_VERIFIED)?.value).toBe(before)
    expect(
      local.calls.records.filter((r) => r.operation === 'TagResource' && r.at >= Date.now() - verified.ms),
    ).toEqual([])

    const recorded = await run('verify-health', { cluster: CLUSTER, service: SERVICE, 'stable-for': '1s' })
    expect(recorded.errors).toEqual([])
    const running = (await service())?.taskDefinition
    expect(recorded.outputs['verified-task-definition']).toBe(running)
    expect((await service())?.tags?.find((t) => t.key === TAG_VERIFIED)?.value).toBe(running)
  })

  it('drain-and-deploy with drain-connections-for lowers the deregistration delay for the drain only and puts it back', async () => {
    await setDeregistrationDelay(60)
    // With a connection open, only the lowered delay lets the drain end before 3 s.
    const stopLongPoll = keepLongPollOpen(`${stack.url}/stream`)
    const quick = await deploy({ image: 'wwhd-dev-backend:v5', 'drain-connections-for': '1s' }).finally(
      stopLongPoll,
    )
    expect(quick.errors).toEqual([])
    expect(quick.log).toMatch(
      /Lowered the deregistration delay of \S+ from 60s to 1s for the drain \(drain-connections-for\)/,
    )
    expect(quick.log).toMatch(/Put the deregistration delay of \S+ back to 60s\./)
    expect(quick.log).toContain('Expected drain: up to ~11s (deregistration delay 1s + stop timeout 10s)')
    expect(quick.warnings.filter((w) => w.startsWith('Draining will take'))).toEqual([])
    // The 60 s delay is 3 s at this scale: lowered, the drain takes well under that.
    expect(Number(quick.outputs['drain-seconds'])).toBeLessThan(3)
    expect(await deregistrationDelay()).toBe('60')
    expect(quick.state['lowered-deregistration-delays']).toBe('')
  })

  it('drain-and-deploy predicts the downtime in its plan, from the last deploy once there is one, and shows predicted against measured', async () => {
    await setDeregistrationDelay(5)
    const first = await deploy({ image: 'wwhd-dev-backend:v3' })
    expect(first.errors).toEqual([])
    const second = await deploy({ image: 'wwhd-dev-backend:v4' })
    expect(second.errors).toEqual([])
    expect(second.log).toMatch(
      /Downtime: +~\S+ \(drain \S+, start \S+, healthy \S+; from the last deploy of this service\)/,
    )
    expect(second.log).toMatch(/^Downtime \S+ \(predicted \S+\): drain \S+ \(\S+\), handover/m)
    expect(second.summary).toContain('<summary>Downtime: predicted and measured</summary>')
    expect(second.summary).toMatch(/\| Phase \| Predicted \(last deploy\) \| Measured \|/)
    expect(second.summary).toMatch(
      /```mermaid\ngantt\n {2}title Downtime - predicted \S+, measured \S+\n {2}dateFormat x/,
    )
    // What the next deploy predicts from: the phases of this one, on the service.
    const tag = (await service())?.tags?.find((t) => t.key === 'ecs-lockstep:last-deploy')?.value
    expect(tag).toMatch(/^drain=\d+\.\d handover=\d+\.\d start=\d+\.\d healthy=\d+\.\d delay=5$/)
    const drain = Number(/drain=(\S+)/.exec(tag as string)?.[1])
    expect(Math.abs(drain - Number(second.outputs['drain-seconds']))).toBeLessThanOrEqual(0.1)
    await setDeregistrationDelay(60)
  })

  it('killed while the delay is lowered, its post step puts it back', async () => {
    const again = await run(
      'drain-and-deploy',
      {
        cluster: CLUSTER,
        service: SERVICE,
        'container-name': 'fastapi',
        'stable-for': '1s',
        image: 'wwhd-dev-backend:v7',
        'drain-connections-for': '1s',
      },
      { killWhen: /Lowered the deregistration delay/ },
    )
    expect(again.signal).toBe('SIGKILL')
    expect(again.post?.warnings.join('\n')).toContain(
      'deregistration delay(s) still lowered; putting them back',
    )
    expect(again.post?.log).toMatch(/Put the deregistration delay of \S+ back to 60s\./)
    expect(await deregistrationDelay()).toBe('60')
  })

  it('refuses drain-connections-for, before any change, when the target group serves anything else', async () => {
    const elb = elbClient()
    const foreign = { Id: '10.99.0.7', Port: 8000 }
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: stack.targetGroupArn, Targets: [foreign] }))
    const since = Date.now()
    try {
      const refused = await deploy({ image: 'wwhd-dev-backend:v8', 'drain-connections-for': '1s' })
      expect(refused.exitCode).toBe(1)
      expect(refused.errors[0]).toMatch(
        /^Input 'drain-connections-for' "1s": target group \S+ also serves 1 target\(s\) that are not tasks of this service \(10\.99\.0\.7\): expected a target group only this service uses/,
      )
      expect(
        local.calls.records.filter((r) => r.at >= since && /^(Register|Update|Modify)/.test(r.operation)),
      ).toEqual([])
      expect(await deregistrationDelay()).toBe('60')
    } finally {
      await elb.send(
        new DeregisterTargetsCommand({ TargetGroupArn: stack.targetGroupArn, Targets: [foreign] }),
      )
    }
  })
})
