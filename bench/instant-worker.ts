import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { openDatabase } from '../src/audit/database';
import { createTollgateWorker } from '../src/workers/worker';
import { instantProviders } from './instant-providers';

/** A Tollgate worker on instant providers, in its own process so its memory can be measured alone. */
async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const address = process.env.TEMPORAL_ADDRESS!;
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: await Connection.connect({ address }) });
  const db = openDatabase(process.env.DATABASE_URL!);
  const worker = await createTollgateWorker({
    connection,
    namespace: 'default',
    taskQueue: process.env.TOLLGATE_TASK_QUEUE!,
    client,
    db,
    log: pino({ level: 'silent' }),
    providers: instantProviders(),
    workflowBundleCode: fs.readFileSync(process.env.TOLLGATE_WORKFLOW_BUNDLE!, 'utf8'),
    maxCachedWorkflows: process.env.TOLLGATE_MAX_CACHED_WORKFLOWS
      ? Number(process.env.TOLLGATE_MAX_CACHED_WORKFLOWS)
      : undefined,
  });
  process.stdout.write('worker running\n');
  await worker.run();
  await db.destroy();
}

void main();
