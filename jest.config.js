/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  // One Temporal dev server, one PostgreSQL and one workflow bundle for the whole run.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // A bound on a hung test, not a speed goal: a busy 2-core machine can be many times slower than an idle one.
  testTimeout: 600_000,
  // Integration tests each start workers and child processes; two at a time suits a 2-core machine.
  maxWorkers: 2,
};
