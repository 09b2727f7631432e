// The engine parts run-task uses, loaded once its inputs are checked. Named re-exports (not the
// engine's whole namespace) keep the deploy code out of this action's bundle.
export {
  ServiceStartedError,
  clearOneOffState,
  createBudget,
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
} from '@ecs-lockstep/ecs-deploy'
