import { expect, it } from '@jest/globals'
import { initialMonitorState, InvariantMonitor } from '../../packages/ecs-local/src/monitor.ts'
import { Store } from '../../packages/ecs-local/src/state.ts'

const life = (id: string, volumes: { volume: string; hostPath: string }[]) => ({
  taskArn: `arn:aws:ecs:us-east-1:123456789012:task/c/${id}`,
  taskId: id,
  cluster: 'c',
  service: 'svc',
  group: 'service:svc',
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/svc:1',
  volumes,
})

it('finding 5: reports every volume two overlapping tasks share, not only the first, and none they do not', () => {
  const monitor = new InvariantMonitor(new Store(undefined, () => ({ monitor: initialMonitorState() })))
  const data = { volume: 'efs:fs-data:/', hostPath: '/tmp/efs/fs-data' }
  const db = { volume: 'efs:fs-db:/', hostPath: '/tmp/efs/fs-db' }
  const logs = { volume: 'host:/var/log', hostPath: '/var/log/a' }
  monitor.begin(life('a', [data, db, logs]))
  monitor.begin(life('b', [{ ...db }, { ...data, hostPath: '/tmp/efs/fs-data/sub' }]))
  monitor.begin(life('c', [{ volume: 'host:/var/log', hostPath: '/var/log/b' }]))
  const overlaps = monitor.overlaps()
  expect(overlaps).toHaveLength(1)
  expect(overlaps[0]?.tasks.map((t) => t.taskId)).toEqual(['a', 'b'])
  expect(overlaps[0]?.volumes).toEqual([data, db])
  expect(overlaps[0]?.volume).toBe(data.volume)
  monitor.end(overlaps[0]?.tasks[0].taskArn as string)
  monitor.begin(life('d', [db]))
  // b and d still share fs-db after a has gone.
  expect(monitor.overlaps().map((o) => o.tasks.map((t) => t.taskId).join('+'))).toEqual(['a+b', 'b+d'])
})
