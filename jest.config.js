/** Options every project shares (jest does not pass root options down to inline projects). */
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  // An ES module; see the file for why it is loaded this way.
  moduleNameMapper: {
    '^@kubernetes/client-node$': '<rootDir>/test/support/client-node-native.js',
    '^jose$': '<rootDir>/test/support/jose-native.js',
    '^openid-client$': '<rootDir>/test/support/openid-client-native.js',
  },
};

/** @type {import('jest').Config} */
module.exports = {
  // One Temporal dev server, one PostgreSQL and one workflow bundle for the whole run.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // A bound on a hung test, not a speed goal: a busy 2-core machine can be many times slower than an idle one.
  testTimeout: 600_000,
  // Integration tests each start workers and child processes; two at a time suits a 2-core machine.
  maxWorkers: 2,
  projects: [
    {
      ...common,
      displayName: 'tollgate',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/kubernetes/'],
    },
    {
      // Against a real Kubernetes control plane (etcd, kube-apiserver, controller manager, scheduler,
      // kwok), started only when a test of this project runs: `npx jest --selectProjects kubernetes`.
      ...common,
      displayName: 'kubernetes',
      roots: ['<rootDir>/test/kubernetes'],
      testMatch: ['**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/kubernetes-setup.ts',
      globalTeardown: '<rootDir>/test/support/kubernetes-teardown.ts',
    },
  ],
};
