// ESLint with typescript-eslint's type-aware rules, as the Temporal samples lint theirs.
// Formatting is prettier's job (`npm run format:check`); eslint-config-prettier turns off the
// stylistic rules that would fight it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tollgate/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits loses its failure; in a workflow it can also reorder commands.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      // An async method without await is how an interface's promise-returning method is implemented.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Errors thrown by providers and the SDK are not always Error instances; we narrow where we catch.
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'Use a union of string literals.' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O modules,
    // only @temporalio/workflow, src/domain and activity *types*.
    files: ['src/workflows/**/*.ts'],
    rules: {
      // The release workflow reads like its runbook: a stage or step that outgrows a screen gets split.
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules
            .flatMap((name) => [name, `node:${name}`])
            .map((name) => ({
              name,
              message: 'Workflow code is deterministic: no Node built-ins (use an activity).',
            })),
          patterns: [
            {
              group: [
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                'pg',
                'knex',
                'pino',
                'zod',
                '**/activities',
                '**/activities/**',
                '**/providers/**',
                '**/audit/**',
                '**/client/**',
                '**/devstack/**',
                '**/service-db/**',
                '**/slack/**',
                '**/cli/**',
                '**/config',
              ],
              message: 'Workflow code imports only @temporalio/workflow, src/domain and activity types.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read JSON bodies, CLI output and raw SQL rows, and assert on their shape with expect():
      // an untyped value there is checked by the assertion itself. No explicit `any` still holds.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
