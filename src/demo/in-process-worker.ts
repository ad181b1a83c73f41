import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { migrateToLatest, openDatabase } from '../audit/database';
import { ReleaseClient } from '../client/release-client';
import { DecisionVerifier } from '../identity/decision-verifier';
import { createTollgateWorker } from '../workers/worker';

export interface InProcessWorker {
  releases: ReleaseClient;
  stop(): Promise<void>;
}

/** A Tollgate worker inside this process (the demo, the benchmarks), with a client on the same task queue. */
export async function startInProcessWorker(
  address: string,
  databaseUrl: string,
  taskQueue: string,
): Promise<InProcessWorker> {
  const db = openDatabase(databaseUrl);
  await migrateToLatest(db);
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection });
  const worker = await createTollgateWorker({
    connection,
    namespace: 'default',
    taskQueue,
    client,
    db,
    log: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    shutdownGraceTime: '2s',
    // The demo runs without an identity provider: local mode, identities on trust.
    identity: new DecisionVerifier({ mode: 'none' }),
  });
  const running = worker.run();
  return {
    releases: new ReleaseClient(client, taskQueue),
    stop: async () => {
      worker.shutdown();
      await running;
      await connection.close();
      await clientConnection.close();
      await db.destroy();
    },
  };
}
