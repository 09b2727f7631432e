/**
 * The deploying actions' post step: finish what a killed main step left (drain, then restore the
 * previous revision). Loads nothing of the AWS SDK until there is something to finish, since a
 * post step runs after every main step.
 */
export { restoreAfterInterruption } from './interrupted.ts'
