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
import { buildWorkflowBundle, quietBundlerLogger } from './bundle';
import { DatabaseUnreachable } from '../audit/database';
import { createTollgateWorker } from './worker';
import { DecisionVerifier } from '../identity/decision-verifier';
import { identitySettings, LOCAL_MODE_NOTICE } from '../identity/settings';
import { required } from '../domain/required';
import { ServiceDatabases } from '../service-db/service-database';

export interface WorkerProcessOptions {
  /** Called once the worker polls its task queue (`tollgate dev` prints what to do next then). */
  onRunning?: () => void;
}

/**
 * The worker process: validates its configuration, migrates Tollgate's database, connects to
 * Temporal and runs until SIGTERM or SIGINT, then drains (running activities get the grace time).
 */
export async function runWorkerProcess(
  config: Config = loadConfig(process.env, ['DATABASE_URL']),
  log: Logger = createLogger(config.LOG_LEVEL, 'tollgate-worker'),
  options: WorkerProcessOptions = {},
): Promise<void> {
  // Before anything starts: a worker that cannot tell who decides must not run.
  const identity = identitySettings(config);
  if (identity.mode === 'none') log.warn(LOCAL_MODE_NOTICE);
  installRuntime(log, { metricsAddress: config.TOLLGATE_SDK_METRICS_ADDRESS });
  const databaseUrl = required(config.DATABASE_URL, 'DATABASE_URL');
  const db = openDatabase(databaseUrl);
  let applied: string[];
  try {
    applied = await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw new DatabaseUnreachable(databaseUrl, err);
  }
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
      : await buildWorkflowBundle(quietBundlerLogger(log)),
    shutdownGraceTime: toMillis(config.TOLLGATE_SHUTDOWN_GRACE),
    maxCachedWorkflows: config.TOLLGATE_MAX_CACHED_WORKFLOWS,
    dataConverter,
    tracing,
    slack: createSlackWebClient(config),
    temporalUiUrl: config.TEMPORAL_UI_URL,
    identity: new DecisionVerifier(identity),
  });
  log.info(
    {
      address: config.TEMPORAL_ADDRESS,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TOLLGATE_TASK_QUEUE,
      identity:
        identity.mode === 'none' ? 'local mode (TOLLGATE_AUTH=none)' : (identity.issuer ?? 'app assertions only'),
    },
    'worker running; SIGTERM drains it',
  );
  // The SDK drains on SIGTERM/SIGINT itself; say so, for the operator watching the log.
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => log.info({ signal }, 'draining: running activities finish, no new work is taken'));
  try {
    const running = worker.run();
    options.onRunning?.();
    await running;
  } finally {
    await connection.close();
    await serviceDatabases.closeAll();
    await db.destroy();
    await tracing?.shutdown();
    log.info('worker stopped');
  }
}
