/**
 * The engine's checks that run before any AWS SDK loads (an action's input checks): parsing
 * container overrides and network configuration, and the task-definition file's grammar.
 */
export {
  NETWORK_EXPECTED,
  OVERRIDES_EXPECTED,
  parseContainerOverrides,
  parseNetworkConfiguration,
} from './overrides.ts'
export {
  MAX_CONTAINERS,
  MAX_TASK_DEFINITION_BYTES,
  taskDefinitionFileProblem,
} from './task-definition-file.ts'
