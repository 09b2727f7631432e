import { snapshot } from './leftovers.ts'

export default snapshot
