import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { openDatabase } from '../src/audit/database';
import { DecisionVerifier } from '../src/identity/decision-verifier';
import { createTollgateWorker } from '../src/workers/worker';
import { instantProviders } from './instant-providers';
import { required } from '../src/domain/required';

/** A Tollgate worker on instant providers, in its own process so its memory can be measured alone. */
async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const address = required(process.env.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS');
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: await Connection.connect({ address }) });
  const db = openDatabase(required(process.env.DATABASE_URL, 'DATABASE_URL'));
  const worker = await createTollgateWorker({
    connection,
    namespace: 'default',
    taskQueue: required(process.env.TOLLGATE_TASK_QUEUE, 'TOLLGATE_TASK_QUEUE'),
    client,
    db,
    log: pino({ level: 'silent' }),
    providers: instantProviders(),
    identity: new DecisionVerifier({ mode: 'none' }),
    workflowBundleCode: fs.readFileSync(
      required(process.env.TOLLGATE_WORKFLOW_BUNDLE, 'TOLLGATE_WORKFLOW_BUNDLE'),
      'utf8',
    ),
    maxCachedWorkflows: process.env.TOLLGATE_MAX_CACHED_WORKFLOWS
      ? Number(process.env.TOLLGATE_MAX_CACHED_WORKFLOWS)
      : undefined,
  });
  process.stdout.write('worker running\n');
  await worker.run();
  await db.destroy();
}

void main();
