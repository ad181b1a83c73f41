import fs from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../config';
import { openDatabase, migrateToLatest } from '../audit/database';
import { toMillis } from '../domain/duration';
import { createLogger } from '../logger';
import { connectionOptions, TemporalUnreachable } from '../temporal/connection';
import { createTollgateWorker } from './worker';

/**
 * The worker process: validates its configuration, migrates Tollgate's database, connects to
 * Temporal and runs until SIGTERM or SIGINT, then drains (running activities get the grace time).
 */
export async function runWorkerProcess(config: Config = loadConfig(process.env, ['DATABASE_URL'])): Promise<void> {
  const log = createLogger(config.LOG_LEVEL, 'tollgate-worker');
  Runtime.install({
    logger: new DefaultLogger(toSdkLevel(config.LOG_LEVEL), (entry) => {
      const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      log[level]({ ...entry.meta, sdk: true }, entry.message);
    }),
  });
  const db = openDatabase(config.DATABASE_URL!);
  const applied = await migrateToLatest(db);
  if (applied.length) log.info({ applied }, 'migrated Tollgate database');

  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(connectionOptions(config));
  } catch (err) {
    throw new TemporalUnreachable(config.TEMPORAL_ADDRESS, err);
  }
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const worker = await createTollgateWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TOLLGATE_TASK_QUEUE,
    client,
    db,
    log,
    workflowBundleCode: config.TOLLGATE_WORKFLOW_BUNDLE ? fs.readFileSync(config.TOLLGATE_WORKFLOW_BUNDLE, 'utf8') : undefined,
    shutdownGraceTime: toMillis(config.TOLLGATE_SHUTDOWN_GRACE),
    maxCachedWorkflows: config.TOLLGATE_MAX_CACHED_WORKFLOWS,
  });
  log.info(
    { address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TOLLGATE_TASK_QUEUE },
    'worker running; SIGTERM drains it',
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
    await db.destroy();
    log.info('worker stopped');
  }
}

function toSdkLevel(level: Config['LOG_LEVEL']): LogLevel {
  switch (level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'info':
      return 'INFO';
    case 'warn':
      return 'WARN';
    default:
      return 'ERROR';
  }
}
