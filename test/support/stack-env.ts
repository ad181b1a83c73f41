/*
 * Every test file shares one Temporal server, and a lane (service + environment) serialises its
 * releases across all of them: give each test file service names of its own.
 */

/** Variables the global setup passes to every test file (jest workers inherit the environment). */
export const TEST_ENV = {
  /** Superuser URL of the test PostgreSQL server; tests create their own databases on it. */
  postgresAdminUrl: 'TOLLGATE_TEST_POSTGRES_URL',
  temporalAddress: 'TOLLGATE_TEST_TEMPORAL_ADDRESS',
  workflowBundle: 'TOLLGATE_TEST_WORKFLOW_BUNDLE',
} as const;

export function testEnv(name: keyof typeof TEST_ENV): string {
  const value = process.env[TEST_ENV[name]];
  if (!value)
    throw new Error(
      `${TEST_ENV[name]} is not set: run the tests with \`npm test\` so the global setup starts the stack`,
    );
  return value;
}
