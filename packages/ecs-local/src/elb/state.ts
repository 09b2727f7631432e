/** Elastic Load Balancing v2 resources as ecs-local keeps them (times are epoch ms). */

export interface LoadBalancerRecord {
  arn: string
  name: string
  region: string
  type: 'application' | 'network'
  scheme: string
  ipAddressType: string
  vpcId: string
  subnets: string[]
  securityGroups: string[]
  createdAt: number
}

export interface HealthCheckSettings {
  enabled: boolean
  protocol: string
  /** 'traffic-port' or a port number. */
  port: string
  path: string
  intervalSeconds: number
  timeoutSeconds: number
  healthyThreshold: number
  unhealthyThreshold: number
  /** '200', '200-299' or '200,202'. */
  httpCode: string
}

export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'draining' | 'unused' | 'unavailable'

/** Where ecs-local really connects for a target: a task's private address maps to 127.0.0.1 ports. */
export interface TargetAddress {
  host: string
  /** Target (container) port → port to connect to. Unmapped ports are used as they are. */
  ports: Record<string, number>
}

export interface TargetRecord {
  id: string
  port: number
  state: TargetState
  reason?: string
  description?: string
  registeredAt: number
  address?: TargetAddress
  successes: number
  failures: number
  checked: boolean
  nextCheckAt: number
  drainUntil?: number
}

export interface TargetGroupRecord {
  arn: string
  name: string
  region: string
  protocol: string
  protocolVersion?: string
  port: number
  vpcId: string
  targetType: 'instance' | 'ip' | 'lambda' | 'alb'
  healthCheck: HealthCheckSettings
  attributes: Record<string, string>
  createdAt: number
  targets: TargetRecord[]
}

export interface ListenerAction {
  Type: string
  TargetGroupArn?: string
  Order?: number
  ForwardConfig?: { TargetGroups?: { TargetGroupArn?: string; Weight?: number }[] }
  FixedResponseConfig?: { StatusCode?: string; ContentType?: string; MessageBody?: string }
}

export interface ListenerRecord {
  arn: string
  loadBalancerArn: string
  region: string
  protocol: string
  /** The port asked for; `port` is the one really bound on 127.0.0.1 (see README). */
  requestedPort: number
  port: number
  defaultActions: ListenerAction[]
  createdAt: number
}

export interface ElbState {
  loadBalancers: Record<string, LoadBalancerRecord>
  targetGroups: Record<string, TargetGroupRecord>
  listeners: Record<string, ListenerRecord>
  tags: Record<string, { Key: string; Value: string }[]>
}

export function initialElbState(): ElbState {
  return { loadBalancers: {}, targetGroups: {}, listeners: {}, tags: {} }
}

/** An Application Load Balancer target group's attributes, as DescribeTargetGroupAttributes lists them. */
export function defaultTargetGroupAttributes(): Record<string, string> {
  return {
    'deregistration_delay.timeout_seconds': '300',
    'stickiness.enabled': 'false',
    'stickiness.type': 'lb_cookie',
    'stickiness.lb_cookie.duration_seconds': '86400',
    'slow_start.duration_seconds': '0',
    'load_balancing.algorithm.type': 'round_robin',
    'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
  }
}

export function actionTargetGroups(action: ListenerAction): string[] {
  if (action.Type !== 'forward') return []
  const fromConfig = (action.ForwardConfig?.TargetGroups ?? []).flatMap((tg) =>
    tg.TargetGroupArn ? [tg.TargetGroupArn] : [],
  )
  return action.TargetGroupArn ? [action.TargetGroupArn, ...fromConfig] : fromConfig
}
