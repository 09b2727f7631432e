import { compare } from './leftovers.ts'

export default compare
