import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { WebClient } from '@slack/web-api';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import pino from 'pino';
import { createTollgateWorker } from '../../src/workers/worker';
import { DecisionVerifier } from '../../src/identity/decision-verifier';
import type { IdentitySettings } from '../../src/identity/settings';
import { ServiceDatabases } from '../../src/service-db/service-database';
import { ReleaseClient } from '../../src/client/release-client';
import type { ProviderRegistry } from '../../src/providers/registry';
import type { Tracing } from '../../src/telemetry/tracing';
import { testEnv } from './stack-env';

let runtimeInstalled = false;

export interface TestWorker {
  worker: Worker;
  client: Client;
  releases: ReleaseClient;
  taskQueue: string;
  stop(): Promise<void>;
}

/**
 * A real Tollgate worker on the test Temporal server, on its own task queue so test files never
 * pick up each other's work. Uses the workflow bundle the global setup built.
 */
export interface TestWorkerOptions {
  db: Knex;
  taskQueue: string;
  providers?: ProviderRegistry;
  dataConverter?: DataConverter;
  tracing?: Tracing;
  slack?: WebClient;
  /** How the worker checks who decides; local mode (identities on trust) unless a test is about identity. */
  identity?: IdentitySettings;
  /** A verifier of the test's own (one that holds a decision, say); built from `identity` otherwise. */
  verifier?: DecisionVerifier;
}

export async function startTestWorker(options: TestWorkerOptions): Promise<TestWorker> {
  if (!runtimeInstalled) {
    try {
      Runtime.install({ logger: new DefaultLogger((process.env.TEST_SDK_LOG_LEVEL as 'ERROR') ?? 'ERROR') });
    } catch {
      // The test file installed its own, to read what workers log.
    }
    runtimeInstalled = true;
  }
  const address = testEnv('temporalAddress');
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, dataConverter: options.dataConverter });
  const serviceDatabases = new ServiceDatabases();
  const worker = await createTollgateWorker({
    serviceDatabases,
    connection: nativeConnection,
    namespace: 'default',
    taskQueue: options.taskQueue,
    client,
    db: options.db,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    providers: options.providers,
    workflowBundleCode: fs.readFileSync(testEnv('workflowBundle'), 'utf8'),
    shutdownGraceTime: '1s',
    dataConverter: options.dataConverter,
    tracing: options.tracing,
    slack: options.slack,
    identity: options.verifier ?? new DecisionVerifier(options.identity ?? { mode: 'none' }),
  });
  const running = worker.run();
  return {
    worker,
    client,
    releases: new ReleaseClient(client, options.taskQueue),
    taskQueue: options.taskQueue,
    stop: async () => {
      worker.shutdown();
      await running;
      await serviceDatabases.closeAll();
      await nativeConnection.close();
      await connection.close();
    },
  };
}

/** A Temporal client without a worker, for tests whose worker runs in another process. */
export async function connectTestClient(
  taskQueue: string,
): Promise<{ client: Client; releases: ReleaseClient; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: testEnv('temporalAddress') });
  const client = new Client({ connection });
  return { client, releases: new ReleaseClient(client, taskQueue), close: () => connection.close() };
}
