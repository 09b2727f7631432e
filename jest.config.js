/** Jest runs the TypeScript sources as native ES modules (node --experimental-vm-modules). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2024' }, module: { type: 'es6' } },
    ],
  },
  setupFiles: ['<rootDir>/test/setup/runner-env.ts'],
  // Nothing left behind: Docker objects and temp entries before and after the run.
  globalSetup: '<rootDir>/test/setup/leftovers-before.ts',
  globalTeardown: '<rootDir>/test/setup/leftovers-after.ts',
  testTimeout: 30_000,
  maxWorkers: 2,
}
