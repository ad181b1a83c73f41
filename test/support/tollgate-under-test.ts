import { migrateToLatest } from '../../src/audit/database';
import { createTestDatabase, type TestDatabase } from './database';
import { startTestWorker, type TestWorker, type TestWorkerOptions } from './worker';

/** Tollgate as one test file uses it: its own audit database (migrated) and a worker on its own task queue. */
export interface TollgateUnderTest {
  database: TestDatabase;
  tollgate: TestWorker;
  stop(): Promise<void>;
}

/**
 * Starts Tollgate for a test file. Task queues are per file (and per run), so test files running
 * side by side on one Temporal server never pick up each other's work.
 */
export async function startTollgate(
  name: string,
  options: Omit<TestWorkerOptions, 'db' | 'taskQueue'> = {},
): Promise<TollgateUnderTest> {
  const database = await createTestDatabase();
  await migrateToLatest(database.db);
  const tollgate = await startTestWorker({ ...options, db: database.db, taskQueue: `${name}-${Date.now()}` });
  return {
    database,
    tollgate,
    stop: async () => {
      await tollgate.stop();
      await database.drop();
    },
  };
}
