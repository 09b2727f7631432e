import { restorePostStep } from '../../shared/restore-post.ts'

await restorePostStep('rollback')
