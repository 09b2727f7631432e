/** Starting a task's containers (ACTIVATING): injected faults, its spec and log groups, then the runtime. */

import { imageNotFound } from '../runtime/images.ts'
import { LaunchError } from '../runtime/types.ts'
import type { SchedulerContext, StartOperation } from './scheduler-context.ts'
import type { TaskDefinitionRecord, TaskRecord } from './state.ts'
import { buildTaskSpec, type BuiltTask } from './task-spec.ts'

/** Faults first (so both runtimes fail alike), then the task's spec, then the runtime. */
export function activate(ctx: SchedulerContext, task: TaskRecord): void {
  const op: StartOperation = { settled: false, targetsRegistered: false }
  ctx.starting.set(task.arn, op)
  const definition = ctx.state.taskDefinitions[task.taskDefinitionArn]
  try {
    if (!definition) throw new LaunchError('ecs-local no longer has this task definition')
    const faults = ctx.deps.faults
    const missing = task.containers.find((c) => faults.config.missingImages?.some((m) => c.image.includes(m)))
    const failing = missing ?? (faults.takeLaunchFailure() ? task.containers[0] : undefined)
    if (failing) {
      task.pullStartedAt = task.pullStoppedAt = Date.now()
      throw new LaunchError(imageNotFound(failing.image).message, failing.name)
    }
    const built = buildTask(ctx, task, definition)
    ensureLogGroups(ctx, built)
    ctx.built.set(task.arn, built)
    ctx.runtime
      .start(built.spec)
      .then(
        (containers) => {
          op.containers = containers
          for (const started of containers) {
            const record = task.containers.find((c) => c.name === started.name)
            if (!record) continue
            record.runtimeId = started.runtimeId
            record.networkBindings = started.networkBindings
            if (started.imageDigest) record.imageDigest = started.imageDigest
          }
        },
        (error: unknown) => {
          op.error =
            error instanceof LaunchError
              ? error
              : new LaunchError(`CannotStartContainerError: ${(error as Error).message}`)
        },
      )
      .finally(() => {
        op.settled = true
        // Containers that died while the others were still starting.
        if (task.containers.some((c) => c.lastStatus === 'STOPPED')) endLifeIfAllExited(ctx, task)
        ctx.kick()
      })
  } catch (error) {
    op.settled = true
    op.error = error instanceof LaunchError ? error : new LaunchError(String((error as Error).message))
  }
}

/** buildTaskSpec with the scheduler's work directory, secrets and timings. Throws LaunchError. */
export function buildTask(
  ctx: SchedulerContext,
  task: TaskRecord,
  definition: TaskDefinitionRecord,
): BuiltTask {
  return buildTaskSpec(task, definition.definition, definition.family, definition.revision, {
    workDir: ctx.deps.workDir,
    secrets: ctx.deps.secrets(),
    timings: ctx.timings,
  })
}

/** awslogs needs its group, unless awslogs-create-group is "true", as on Fargate. */
function ensureLogGroups(ctx: SchedulerContext, built: BuiltTask): void {
  for (const { region, group, create } of built.logGroups) {
    if (ctx.deps.logs.group(region, group)) continue
    if (create) {
      ctx.deps.logs.createGroup(region, group)
      continue
    }
    throw new LaunchError(
      'ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. : exit status 1',
    )
  }
}

/** Once the start has settled, every created container has exited: the volumes are free. */
export function endLifeIfAllExited(ctx: SchedulerContext, task: TaskRecord): void {
  if (ctx.starting.get(task.arn)?.settled === false) return
  const created = ctx.created.get(task.arn) ?? new Set<string>()
  if (task.containers.every((c) => !created.has(c.name) || c.lastStatus === 'STOPPED')) {
    ctx.deps.monitor.end(task.arn)
  }
}
