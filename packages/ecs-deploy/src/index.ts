/**
 * The deploy engine's public API. It knows no action inputs or outputs: callers hand it a request
 * and an EngineContext (cancel signal, kill time, an event sink), it emits progress events, returns
 * results and throws RequestError (a request field is wrong) or ActionError (with the state left).
 * Two light entries load no AWS SDK: './checks.ts' (input checks) and './after-kill.ts' (the
 * deploying actions' post step).
 */

// Running it
export { type DeployEvent, type EngineContext } from './events.ts'
export {
  createClients,
  createServiceClients,
  type AwsClients,
  type EcsAccess,
  type ServiceClients,
} from './clients.ts'
export { createBudget, type Budget } from './budget.ts'
export { tolerateTransient, type PollSettings } from './poll.ts'

// Deploy and roll back (the post step that finishes either after a kill: ./after-kill.ts)
export { deploy, type DeployOutcome, type DeployRequest, type Strategy } from './deploy.ts'
export { RolloutFailure, TaskFailure, failureThreshold, type WaitFor } from './rollout.ts'
export { chooseRollbackTarget, type RollbackTarget } from './rollback-target.ts'
export { downtimeReport, type DowntimePhases, type DowntimePrediction } from './downtime.ts'
export { diagnose, failedCheckInEvents, firstCauseLine, type Diagnosis } from './diagnose.ts'

// One-off tasks (run-task)
export {
  ServiceStartedError,
  clearOneOffState,
  createOneOffClients,
  describeHolder,
  findHolders,
  holdersError,
  judgeOneOff,
  planOneOff,
  printLogTails,
  saveOneOffState,
  startOneOff,
  stopAndConfirm,
  waitUntilStopped,
  type OneOffClients,
  type OneOffPlan,
  type OneOffRequest,
  type OneOffResult,
} from './one-off.ts'
export { stopAfterInterruption } from './one-off-interrupted.ts'

// Watching a service (verify-health)
export { TAG_VERIFIED, describeService, primaryDeployment, tagService, type ServiceRef } from './service.ts'
export { drainService, scaleToZero, type DrainResult } from './drain.ts'
export { readTargetHealth, targetGroupsOf, type TargetHealth } from './load-balancer.ts'
export { revisionOf, stateNow, type ServiceState } from './service-state.ts'
export {
  TaskTracker,
  describeStopping,
  describeTasks,
  isStopped,
  listDeploymentTasks,
  taskId,
} from './tasks.ts'
export { READ_ONLY_FIELDS, efsVolumes, shortRevision } from './task-definition.ts'
