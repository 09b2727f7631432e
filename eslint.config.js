import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  prettier,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // External text (process output, logs, AWS and HTTP bodies, inputs) must never issue a workflow
    // command: the actions print through @ecs-lockstep/core/log, which fences it.
    files: ['actions/**', 'packages/core/**', 'packages/ecs-deploy/**'],
    ignores: ['packages/core/src/log.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['info', 'warning', 'error', 'notice'].map((property) => ({
          object: 'core',
          property,
          message:
            'Print through @ecs-lockstep/core/log, which keeps external text from issuing workflow commands.',
        })),
        { object: 'process', property: 'stdout', message: 'Print through @ecs-lockstep/core/log.' },
      ],
    },
  },
  {
    // The deploy engine knows no action: it takes a request and an EngineContext, emits events and
    // throws RequestError for a wrong field; input names, outputs and summaries are the actions'.
    files: ['packages/ecs-deploy/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@ecs-lockstep/core',
              message: 'Import the module itself (errors, log, time...), not the action API.',
            },
            {
              name: '@ecs-lockstep/core/run',
              message: 'The engine takes an EngineContext, not an ActionContext.',
            },
            { name: '@ecs-lockstep/core/report', message: 'Emit an event; the action writes the summary.' },
            {
              name: '@ecs-lockstep/core/inputs',
              importNames: ['inputError', 'secretInputError', 'readInputs', 'InputError'],
              message: 'Throw RequestError naming the request field; the action names its input.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**', 'bench/**', 'campaign/**', 'packages/ecs-local/**', 'examples/**'],
    rules: { 'no-console': 'off' },
  },
)
