import type { LoadBalancing } from '../elb/balancer.ts'
import {
  actionTargetGroups,
  defaultTargetGroupAttributes,
  type ElbState,
  type HealthCheckSettings,
  type ListenerAction,
  type ListenerRecord,
  type LoadBalancerRecord,
  type TargetAddress,
  type TargetGroupRecord,
} from '../elb/state.ts'
import { AwsError } from '../errors.ts'
import { elbArn, newElbId } from '../ids.ts'
import type { CallContext, ServiceDefinition } from '../service.ts'
import type { Store } from '../state.ts'

/** awsQuery sends every value as a string; lists arrive as arrays (`X.member.N`). */
type QueryInput = Record<string, unknown>

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
const num = (value: unknown): number | undefined =>
  value === undefined || value === '' ? undefined : Number(value)
const list = <T = string>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : [])

const NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$/

const validation = (message: string) => new AwsError('ValidationError', message)
const lbNotFound = () => new AwsError('LoadBalancerNotFound', 'One or more load balancers not found')
const tgNotFound = () => new AwsError('TargetGroupNotFound', 'One or more target groups not found')
const listenerNotFound = () => new AwsError('ListenerNotFound', 'One or more listeners not found')

const ZONES = ['a', 'b', 'c', 'd', 'e', 'f']

/**
 * Elastic Load Balancing v2 (awsQuery). Resources are records; the data plane (health checks,
 * draining, the listeners' reverse proxies) is LoadBalancing. A load balancer's DNSName is
 * 127.0.0.1 and each listener serves http://127.0.0.1:<Port>, Port being the one really bound.
 */
export function elbv2Service(
  store: Store<{ elb: ElbState }>,
  elb: LoadBalancing,
  addressOf: (targetId: string) => TargetAddress | undefined,
): ServiceDefinition {
  const state = () => store.data.elb

  function presentLoadBalancer(lb: LoadBalancerRecord) {
    return {
      LoadBalancerArn: lb.arn,
      DNSName: '127.0.0.1',
      CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
      CreatedTime: new Date(lb.createdAt),
      LoadBalancerName: lb.name,
      Scheme: lb.scheme,
      VpcId: lb.vpcId,
      State: { Code: 'active' },
      Type: lb.type,
      AvailabilityZones: lb.subnets.map((subnet, i) => ({
        ZoneName: `${lb.region}${ZONES[i % ZONES.length]}`,
        SubnetId: subnet,
        LoadBalancerAddresses: [],
      })),
      SecurityGroups: lb.securityGroups,
      IpAddressType: lb.ipAddressType,
    }
  }

  function presentTargetGroup(tg: TargetGroupRecord) {
    const hc = tg.healthCheck
    return {
      TargetGroupArn: tg.arn,
      TargetGroupName: tg.name,
      Protocol: tg.protocol,
      Port: tg.port,
      VpcId: tg.vpcId,
      HealthCheckProtocol: hc.protocol,
      HealthCheckPort: hc.port,
      HealthCheckEnabled: hc.enabled,
      HealthCheckIntervalSeconds: hc.intervalSeconds,
      HealthCheckTimeoutSeconds: hc.timeoutSeconds,
      HealthyThresholdCount: hc.healthyThreshold,
      UnhealthyThresholdCount: hc.unhealthyThreshold,
      HealthCheckPath: hc.path,
      Matcher: { HttpCode: hc.httpCode },
      LoadBalancerArns: elb.loadBalancersOf(tg.arn),
      TargetType: tg.targetType,
      ...(tg.protocolVersion ? { ProtocolVersion: tg.protocolVersion } : {}),
      IpAddressType: 'ipv4',
    }
  }

  function presentListener(listener: ListenerRecord) {
    return {
      ListenerArn: listener.arn,
      LoadBalancerArn: listener.loadBalancerArn,
      Port: listener.port,
      Protocol: listener.protocol,
      DefaultActions: listener.defaultActions,
    }
  }

  function presentAttributes(tg: TargetGroupRecord) {
    return Object.entries(tg.attributes).map(([Key, Value]) => ({ Key, Value }))
  }

  function findLoadBalancer(arn: unknown): LoadBalancerRecord {
    const lb = typeof arn === 'string' ? state().loadBalancers[arn] : undefined
    if (!lb) throw lbNotFound()
    return lb
  }

  function findTargetGroup(arn: unknown): TargetGroupRecord {
    const tg = typeof arn === 'string' ? state().targetGroups[arn] : undefined
    if (!tg) throw tgNotFound()
    return tg
  }

  function healthCheckFrom(input: QueryInput, base: HealthCheckSettings): HealthCheckSettings {
    const settings: HealthCheckSettings = {
      enabled: input.HealthCheckEnabled === undefined ? base.enabled : input.HealthCheckEnabled === 'true',
      protocol: str(input.HealthCheckProtocol) ?? base.protocol,
      port: str(input.HealthCheckPort) ?? base.port,
      path: str(input.HealthCheckPath) ?? base.path,
      intervalSeconds: num(input.HealthCheckIntervalSeconds) ?? base.intervalSeconds,
      timeoutSeconds: num(input.HealthCheckTimeoutSeconds) ?? base.timeoutSeconds,
      healthyThreshold: num(input.HealthyThresholdCount) ?? base.healthyThreshold,
      unhealthyThreshold: num(input.UnhealthyThresholdCount) ?? base.unhealthyThreshold,
      httpCode: str((input.Matcher as { HttpCode?: string } | undefined)?.HttpCode) ?? base.httpCode,
    }
    if (settings.intervalSeconds < 5 || settings.intervalSeconds > 300) {
      throw validation('Health check interval must be between 5 and 300 seconds')
    }
    if (settings.timeoutSeconds < 2 || settings.timeoutSeconds > 120) {
      throw validation('Health check timeout must be between 2 and 120 seconds')
    }
    if (settings.timeoutSeconds >= settings.intervalSeconds) {
      throw validation('Health check interval must be greater than the timeout.')
    }
    for (const count of [settings.healthyThreshold, settings.unhealthyThreshold]) {
      if (!Number.isInteger(count) || count < 2 || count > 10) {
        throw validation('Health check thresholds must be between 2 and 10')
      }
    }
    return settings
  }

  function byRegion<T extends { region: string }>(records: Record<string, T>, ctx: CallContext): T[] {
    return Object.values(records).filter((r) => r.region === ctx.region)
  }

  return {
    name: 'elasticloadbalancing',
    protocol: 'query',
    queryVersion: '2015-12-01',
    xmlns: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
    operations: {
      CreateLoadBalancer: (input: QueryInput, ctx) => {
        const name = str(input.Name) ?? ''
        if (!NAME.test(name) || name.startsWith('internal-')) {
          throw validation(
            `Load balancer name '${name}' can only contain alphanumeric characters or hyphens(-), must not begin or end with a hyphen, and can be up to 32 characters`,
          )
        }
        const type = (str(input.Type) ?? 'application') as LoadBalancerRecord['type']
        const subnets = list(input.Subnets)
        if (type === 'application' && subnets.length < 2) {
          throw validation('At least two subnets in two different Availability Zones must be specified')
        }
        const existing = byRegion(state().loadBalancers, ctx).find((lb) => lb.name === name)
        if (existing) {
          if (existing.type === type && existing.subnets.join() === subnets.join()) {
            return { LoadBalancers: [presentLoadBalancer(existing)] }
          }
          throw new AwsError(
            'DuplicateLoadBalancerName',
            `A load balancer with the same name '${name}' exists, but with different settings`,
          )
        }
        const lb: LoadBalancerRecord = {
          arn: elbArn(
            ctx.region,
            ctx.accountId,
            `loadbalancer/${type === 'network' ? 'net' : 'app'}/${name}/${newElbId()}`,
          ),
          name,
          region: ctx.region,
          type,
          scheme: str(input.Scheme) ?? 'internet-facing',
          ipAddressType: str(input.IpAddressType) ?? 'ipv4',
          vpcId: 'vpc-00000000000000000',
          subnets,
          securityGroups: list(input.SecurityGroups),
          createdAt: Date.now(),
        }
        state().loadBalancers[lb.arn] = lb
        const tags = list<{ Key: string; Value: string }>(input.Tags)
        if (tags.length) state().tags[lb.arn] = tags
        store.changed()
        return { LoadBalancers: [presentLoadBalancer(lb)] }
      },

      DescribeLoadBalancers: (input: QueryInput, ctx) => {
        const arns = list(input.LoadBalancerArns)
        const names = list(input.Names)
        let found = byRegion(state().loadBalancers, ctx)
        if (arns.length) found = arns.map((arn) => findLoadBalancer(arn))
        if (names.length) {
          found = names.map((name) => {
            const lb = found.find((l) => l.name === name)
            if (!lb) throw new AwsError('LoadBalancerNotFound', `Load balancers '[${name}]' not found`)
            return lb
          })
        }
        return { LoadBalancers: found.map(presentLoadBalancer) }
      },

      DeleteLoadBalancer: (input: QueryInput) => {
        const arn = str(input.LoadBalancerArn) ?? ''
        if (!state().loadBalancers[arn]) return {}
        for (const listener of Object.values(state().listeners)) {
          if (listener.loadBalancerArn !== arn) continue
          elb.closeListener(listener.arn)
          Reflect.deleteProperty(state().listeners, listener.arn)
        }
        Reflect.deleteProperty(state().loadBalancers, arn)
        store.changed()
        return {}
      },

      CreateTargetGroup: (input: QueryInput, ctx) => {
        const name = str(input.Name) ?? ''
        if (!NAME.test(name)) {
          throw validation(
            `Target group name '${name}' can only contain characters that are alphanumeric characters or hyphens(-)`,
          )
        }
        const targetType = (str(input.TargetType) ?? 'instance') as TargetGroupRecord['targetType']
        const protocol = str(input.Protocol)
        const port = num(input.Port)
        const vpcId = str(input.VpcId)
        if (targetType !== 'lambda') {
          if (!protocol) throw validation('A protocol must be specified')
          if (port === undefined) throw validation('A port must be specified')
          if (!vpcId) throw validation('A VPC ID must be specified')
        }
        const defaults: HealthCheckSettings = {
          enabled: true,
          protocol: protocol === 'HTTPS' ? 'HTTPS' : 'HTTP',
          port: 'traffic-port',
          path: '/',
          intervalSeconds: 30,
          timeoutSeconds: 5,
          healthyThreshold: 5,
          unhealthyThreshold: 2,
          httpCode: '200',
        }
        const healthCheck = healthCheckFrom(input, defaults)
        const existing = byRegion(state().targetGroups, ctx).find((tg) => tg.name === name)
        if (existing) {
          const same =
            existing.protocol === protocol &&
            existing.port === port &&
            existing.targetType === targetType &&
            JSON.stringify(existing.healthCheck) === JSON.stringify(healthCheck)
          if (same) return { TargetGroups: [presentTargetGroup(existing)] }
          throw new AwsError(
            'DuplicateTargetGroupName',
            `A target group with the same name '${name}' exists, but with different settings`,
          )
        }
        const tg: TargetGroupRecord = {
          arn: elbArn(ctx.region, ctx.accountId, `targetgroup/${name}/${newElbId()}`),
          name,
          region: ctx.region,
          protocol: protocol ?? 'HTTP',
          ...(str(input.ProtocolVersion) || protocol?.startsWith('HTTP')
            ? { protocolVersion: str(input.ProtocolVersion) ?? 'HTTP1' }
            : {}),
          port: port ?? 0,
          vpcId: vpcId ?? '',
          targetType,
          healthCheck,
          attributes: defaultTargetGroupAttributes(),
          createdAt: Date.now(),
          targets: [],
        }
        state().targetGroups[tg.arn] = tg
        store.changed()
        return { TargetGroups: [presentTargetGroup(tg)] }
      },

      ModifyTargetGroup: (input: QueryInput) => {
        const tg = findTargetGroup(input.TargetGroupArn)
        tg.healthCheck = healthCheckFrom(input, tg.healthCheck)
        store.changed()
        return { TargetGroups: [presentTargetGroup(tg)] }
      },

      DescribeTargetGroups: (input: QueryInput, ctx) => {
        const arns = list(input.TargetGroupArns)
        const names = list(input.Names)
        let found = byRegion(state().targetGroups, ctx)
        if (input.LoadBalancerArn !== undefined) {
          findLoadBalancer(input.LoadBalancerArn)
          found = found.filter((tg) => elb.loadBalancersOf(tg.arn).includes(input.LoadBalancerArn as string))
        }
        if (arns.length) found = arns.map((arn) => findTargetGroup(arn))
        if (names.length) {
          found = names.map((name) => {
            const tg = found.find((t) => t.name === name)
            if (!tg) throw new AwsError('TargetGroupNotFound', `Target groups '[${name}]' not found`)
            return tg
          })
        }
        return { TargetGroups: found.map(presentTargetGroup) }
      },

      DeleteTargetGroup: (input: QueryInput) => {
        const arn = str(input.TargetGroupArn) ?? ''
        if (!state().targetGroups[arn]) return {}
        if (
          Object.values(state().listeners).some((l) =>
            l.defaultActions.some((a) => actionTargetGroups(a).includes(arn)),
          )
        ) {
          throw new AwsError(
            'ResourceInUse',
            `Target group '${arn}' is currently in use by a listener or a rule`,
          )
        }
        Reflect.deleteProperty(state().targetGroups, arn)
        store.changed()
        return {}
      },

      DescribeTargetGroupAttributes: (input: QueryInput) => {
        return { Attributes: presentAttributes(findTargetGroup(input.TargetGroupArn)) }
      },

      ModifyTargetGroupAttributes: (input: QueryInput) => {
        const tg = findTargetGroup(input.TargetGroupArn)
        const attributes = list<{ Key?: string; Value?: string }>(input.Attributes)
        for (const { Key, Value } of attributes) {
          if (!Key) continue
          if (Key === 'deregistration_delay.timeout_seconds') {
            const seconds = Number(Value)
            if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600) {
              throw validation(`'${Value}' must be an integer between 0 and 3600 for '${Key}'`)
            }
          }
          tg.attributes[Key] = Value ?? ''
        }
        store.changed()
        return { Attributes: presentAttributes(tg) }
      },

      CreateListener: async (input: QueryInput, ctx) => {
        const lb = findLoadBalancer(input.LoadBalancerArn)
        const protocol = str(input.Protocol) ?? 'HTTP'
        if (protocol !== 'HTTP') {
          throw new AwsError('UnsupportedProtocol', `ecs-local serves HTTP listeners only, not '${protocol}'`)
        }
        const port = num(input.Port)
        if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
          throw validation('Listener port must be between 1 and 65535')
        }
        const actions = list<ListenerAction>(input.DefaultActions).map((a) => ({
          ...a,
          ...(a.Order !== undefined ? { Order: Number(a.Order) } : {}),
        }))
        if (actions.length === 0) throw validation('A default action must be specified')
        for (const action of actions) for (const tg of actionTargetGroups(action)) findTargetGroup(tg)
        const clash = Object.values(state().listeners).find(
          (l) => l.loadBalancerArn === lb.arn && (l.requestedPort === port || l.port === port),
        )
        if (clash) {
          throw new AwsError(
            'DuplicateListener',
            `A listener already exists on this port for this load balancer '${lb.arn}'`,
          )
        }
        const listener: ListenerRecord = {
          arn: elbArn(
            ctx.region,
            ctx.accountId,
            `listener/app/${lb.name}/${lb.arn.split('/').pop()}/${newElbId()}`,
          ),
          loadBalancerArn: lb.arn,
          region: ctx.region,
          protocol,
          requestedPort: port,
          port,
          defaultActions: actions,
          createdAt: Date.now(),
        }
        state().listeners[listener.arn] = listener
        await elb.openListener(listener)
        store.changed()
        return { Listeners: [presentListener(listener)] }
      },

      DescribeListeners: (input: QueryInput) => {
        const arns = list(input.ListenerArns)
        if (arns.length) {
          return {
            Listeners: arns.map((arn) => {
              const listener = state().listeners[arn]
              if (!listener) throw listenerNotFound()
              return presentListener(listener)
            }),
          }
        }
        const lb = findLoadBalancer(input.LoadBalancerArn)
        return {
          Listeners: Object.values(state().listeners)
            .filter((l) => l.loadBalancerArn === lb.arn)
            .map(presentListener),
        }
      },

      DeleteListener: (input: QueryInput) => {
        const arn = str(input.ListenerArn) ?? ''
        if (!state().listeners[arn]) throw listenerNotFound()
        elb.closeListener(arn)
        Reflect.deleteProperty(state().listeners, arn)
        store.changed()
        return {}
      },

      RegisterTargets: (input: QueryInput) => {
        const tg = findTargetGroup(input.TargetGroupArn)
        for (const target of list<{ Id?: string; Port?: string }>(input.Targets)) {
          if (!target.Id) throw validation('A target ID must be specified')
          const port = num(target.Port) ?? tg.port
          elb.registerTarget(tg.arn, target.Id, port, addressOf(target.Id))
        }
        return {}
      },

      DeregisterTargets: (input: QueryInput) => {
        const tg = findTargetGroup(input.TargetGroupArn)
        for (const target of list<{ Id?: string; Port?: string }>(input.Targets)) {
          const port = num(target.Port) ?? tg.port
          if (!elb.findTarget(tg.arn, target.Id ?? '', port)) {
            throw new AwsError(
              'InvalidTarget',
              `The following targets are not registered in target group '${tg.arn}': 'Id=${target.Id},Port=${port}'`,
            )
          }
          elb.deregisterTarget(tg.arn, target.Id ?? '', port)
        }
        return {}
      },

      DescribeTargetHealth: (input: QueryInput) => {
        const tg = findTargetGroup(input.TargetGroupArn)
        const healthCheckPort = (port: number) =>
          tg.healthCheck.port === 'traffic-port' ? String(port) : tg.healthCheck.port
        const asked = list<{ Id?: string; Port?: string }>(input.Targets)
        const describe = (id: string, port: number) => {
          const target = elb.findTarget(tg.arn, id, port)
          const health = target
            ? {
                State: target.state,
                ...(target.reason ? { Reason: target.reason } : {}),
                ...(target.description ? { Description: target.description } : {}),
              }
            : {
                State: 'unused',
                Reason: 'Target.NotRegistered',
                Description: 'Target is not registered to the target group',
              }
          return {
            Target: { Id: id, Port: port },
            HealthCheckPort: healthCheckPort(port),
            TargetHealth: health,
          }
        }
        const descriptions = asked.length
          ? asked.map((t) => describe(t.Id ?? '', num(t.Port) ?? tg.port))
          : tg.targets.map((t) => describe(t.id, t.port))
        return { TargetHealthDescriptions: descriptions }
      },

      DescribeTags: (input: QueryInput) => {
        return {
          TagDescriptions: list(input.ResourceArns).map((arn) => ({
            ResourceArn: arn,
            Tags: state().tags[arn] ?? [],
          })),
        }
      },
    },
  }
}
