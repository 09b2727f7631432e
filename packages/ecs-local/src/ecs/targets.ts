/** Load balancer targets of service tasks: registered as they activate, dropped once containers are gone. */

import { addEvent } from './deployments.ts'
import type { SchedulerContext } from './scheduler-context.ts'
import type { TaskRecord } from './state.ts'

export function registerTargets(ctx: SchedulerContext, task: TaskRecord): void {
  const service = task.serviceArn ? ctx.state.services[task.serviceArn] : undefined
  if (!service) return
  const ports: Record<string, number> = {}
  for (const c of task.containers)
    for (const b of c.networkBindings) ports[String(b.containerPort)] = b.hostPort
  for (const lb of service.loadBalancers) {
    if (!lb.targetGroupArn || !ctx.deps.elb.targetGroup(lb.targetGroupArn)) continue
    ctx.deps.elb.registerTarget(lb.targetGroupArn, task.privateIp, lb.containerPort, {
      host: '127.0.0.1',
      ports,
    })
    task.targets.push({
      targetGroupArn: lb.targetGroupArn,
      id: task.privateIp,
      port: lb.containerPort,
      containerName: lb.containerName,
    })
    addEvent(service, `registered 1 targets in (target-group ${lb.targetGroupArn})`)
  }
}

/** Takes the task's targets out of their groups at once, without draining (leaveRunning drains). */
export function dropTargets(ctx: SchedulerContext, task: TaskRecord): void {
  for (const target of task.targets) {
    const group = ctx.deps.elb.targetGroup(target.targetGroupArn)
    if (group) group.targets = group.targets.filter((t) => !(t.id === target.id && t.port === target.port))
  }
  task.targets = []
}
