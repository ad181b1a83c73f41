import fs from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../config';
import { openDatabase, migrateToLatest } from '../audit/database';
import { dataConverterFor } from '../codec/data-converter';
import { createSlackWebClient } from '../slack/web-client';
import { setUpTracing } from '../telemetry/tracing';
import { toMillis } from '../domain/duration';
import { createLogger, type Logger } from '../logger';
import { connectionOptions, TemporalUnreachable } from '../temporal/connection';
import { installRuntime } from './runtime';
import { createTollgateWorker } from './worker';
import { required } from '../domain/required';
import { ServiceDatabases } from '../service-db/service-database';

/**
 * The worker process: validates its configuration, migrates Tollgate's database, connects to
 * Temporal and runs until SIGTERM or SIGINT, then drains (running activities get the grace time).
 */
export async function runWorkerProcess(
  config: Config = loadConfig(process.env, ['DATABASE_URL']),
  log: Logger = createLogger(config.LOG_LEVEL, 'tollgate-worker'),
): Promise<void> {
  installRuntime(log, { metricsAddress: config.TOLLGATE_SDK_METRICS_ADDRESS });
  const db = openDatabase(required(config.DATABASE_URL, 'DATABASE_URL'));
  const applied = await migrateToLatest(db);
  if (applied.length) log.info({ applied }, 'migrated Tollgate database');

  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(connectionOptions(config));
  } catch (err) {
    throw new TemporalUnreachable(config.TEMPORAL_ADDRESS, err);
  }
  const dataConverter = dataConverterFor(config);
  const tracing = setUpTracing({ serviceName: 'tollgate-worker', endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
  const serviceDatabases = new ServiceDatabases();
  const worker = await createTollgateWorker({
    serviceDatabases,
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TOLLGATE_TASK_QUEUE,
    client,
    db,
    log,
    workflowBundleCode: config.TOLLGATE_WORKFLOW_BUNDLE
      ? fs.readFileSync(config.TOLLGATE_WORKFLOW_BUNDLE, 'utf8')
      : undefined,
    shutdownGraceTime: toMillis(config.TOLLGATE_SHUTDOWN_GRACE),
    maxCachedWorkflows: config.TOLLGATE_MAX_CACHED_WORKFLOWS,
    dataConverter,
    tracing,
    slack: createSlackWebClient(config),
    temporalUiUrl: config.TEMPORAL_UI_URL,
  });
  log.info(
    { address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TOLLGATE_TASK_QUEUE },
    'worker running; SIGTERM drains it',
  );
  // The SDK drains on SIGTERM/SIGINT itself; say so, for the operator watching the log.
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => log.info({ signal }, 'draining: running activities finish, no new work is taken'));
  try {
    await worker.run();
  } finally {
    await connection.close();
    await serviceDatabases.closeAll();
    await db.destroy();
    await tracing?.shutdown();
    log.info('worker stopped');
  }
}
