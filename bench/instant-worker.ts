import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import {
  NativeConnection,
  Runtime,
  DefaultLogger,
  Worker,
  type ActivityInboundCallsInterceptor,
} from '@temporalio/worker';
import { type Context } from '@temporalio/activity';
import pino from 'pino';
import { openDatabase } from '../src/audit/database';
import { DecisionVerifier } from '../src/identity/decision-verifier';
import { createTollgateWorker, DEFAULT_MAX_CACHED_WORKFLOWS, DEFAULT_SHUTDOWN_GRACE } from '../src/workers/worker';
import { instantProviders } from './instant-providers';
import { required } from '../src/domain/required';
import type { BareActivities } from './bare-workflow';

/** Milliseconds spent inside each activity type, in this worker. */
const activityMs = new Map<string, number[]>();

/** Times every activity from its function's start to its end: the worker's own share of a step. */
class ActivityTimer implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}
  async execute(input: unknown, next: (input: never) => Promise<unknown>): Promise<unknown> {
    const started = performance.now();
    try {
      return await next(input as never);
    } finally {
      const type = this.ctx.info.activityType;
      activityMs.set(type, [...(activityMs.get(type) ?? []), performance.now() - started]);
    }
  }
}

// The bench asks for the timings (and resets them) over IPC.
process.on('message', (message) => {
  if (message !== 'activity-timings') return;
  process.send?.({ activityMs: Object.fromEntries(activityMs) });
  activityMs.clear();
});

/**
 * A Tollgate worker on instant providers, in its own process so its memory can be measured alone,
 * and beside it (on `<queue>-bare`, same connection, same worker options) the bare-Temporal
 * baseline's worker.
 */
async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const address = required(process.env.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS');
  const taskQueue = required(process.env.TOLLGATE_TASK_QUEUE, 'TOLLGATE_TASK_QUEUE');
  const maxCachedWorkflows = process.env.TOLLGATE_MAX_CACHED_WORKFLOWS
    ? Number(process.env.TOLLGATE_MAX_CACHED_WORKFLOWS)
    : DEFAULT_MAX_CACHED_WORKFLOWS;
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: await Connection.connect({ address }) });
  const db = openDatabase(required(process.env.DATABASE_URL, 'DATABASE_URL'));
  const worker = await createTollgateWorker({
    connection,
    namespace: 'default',
    taskQueue,
    client,
    db,
    log: pino({ level: 'silent' }),
    providers: instantProviders(),
    identity: new DecisionVerifier({ mode: 'none' }),
    workflowBundleCode: fs.readFileSync(
      required(process.env.TOLLGATE_WORKFLOW_BUNDLE, 'TOLLGATE_WORKFLOW_BUNDLE'),
      'utf8',
    ),
    maxCachedWorkflows,
    activityInterceptors: [(ctx) => ({ inbound: new ActivityTimer(ctx) })],
  });
  const activities: BareActivities = { noop: async () => {} };
  const bare = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: `${taskQueue}-bare`,
    workflowsPath: require.resolve('./bare-workflow'),
    activities,
    shutdownGraceTime: DEFAULT_SHUTDOWN_GRACE,
    maxCachedWorkflows,
    interceptors: { activity: [(ctx: Context) => ({ inbound: new ActivityTimer(ctx) })] },
  });
  process.stdout.write('worker running\n');
  await Promise.all([worker.run(), bare.run()]);
  await db.destroy();
  if (process.connected) process.disconnect(); // the IPC channel would keep this process alive
}

void main();
