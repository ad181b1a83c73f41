import { workerIdentity } from '../codec/key-announcement';
import {
  type ActivityInterceptorsFactory,
  type NativeConnection,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import type { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { WebClient } from '@slack/web-api';
import type { DataConverter } from '@temporalio/common';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import type { DecisionVerifier } from '../identity/decision-verifier';
import { LaneFences } from '../fencing/lane-fences';
import { RunningCommands } from '../fencing/running-commands';
import { createProviderRegistry, type ProviderRegistry } from '../providers/registry';
import { ServiceDatabases } from '../service-db/service-database';
import { ReleaseTracingInterceptor } from '../telemetry/activity-tracing';
import type { Tracing } from '../telemetry/tracing';
import { workflowBundleOptions } from './bundle';

export interface TollgateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** For activities that talk to Temporal (the lane's signal-with-start). */
  client: Client;
  db: Knex;
  log: Logger;
  providers?: ProviderRegistry;
  /** Pools for the services' own databases; pass one to close it when the worker stops. */
  serviceDatabases?: ServiceDatabases;
  /** Slack's Web API for the releases' live messages. */
  slack?: WebClient;
  temporalUiUrl?: string;
  /** Checks who sent each decision (src/identity): the organisation's issuer and the app's key, or local mode. */
  identity: DecisionVerifier;
  /** Prebuilt bundle code; without it the worker bundles src/workflows at start (a few seconds). */
  workflowBundleCode?: string;
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /** Encrypts payloads (src/codec); must match the clients'. */
  dataConverter?: DataConverter;
  /** OpenTelemetry: a span per activity, in its release's trace. */
  tracing?: Tracing;
  /** Workflows kept in memory between their tasks; the rest are replayed from history when they wake. */
  maxCachedWorkflows?: number;
  /** More activity interceptors (bench/instant-worker.ts times every activity). */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

/**
 * Releases kept in memory between their tasks. Each costs about 0.6 MiB of worker memory (its
 * workflow's V8 context); an evicted one is replayed from history when it wakes, which costs CPU
 * and a history fetch. Sizing a worker: docs/architecture.md, "Sizing a worker".
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 500;
export const DEFAULT_SHUTDOWN_GRACE = '30s';

/** A worker that runs every Tollgate workflow and activity on one task queue. */
export async function createTollgateWorker(options: TollgateWorkerOptions): Promise<Worker> {
  const commands = new RunningCommands(options.db, options.log);
  // Commands that dead workers on this host left running would race the retries and rollbacks
  // this worker is about to run: stop them first.
  const orphans = await commands.stopOrphans();
  if (orphans.length)
    options.log.warn({ orphans }, 'stopped commands that workers which died on this host left running');
  const activities = createActivities({
    db: options.db,
    temporal: options.client,
    providers: options.providers ?? createProviderRegistry(),
    serviceDatabases: options.serviceDatabases ?? new ServiceDatabases(),
    log: options.log,
    fences: new LaneFences(options.db),
    commands,
    slack: options.slack,
    temporalUiUrl: options.temporalUiUrl,
    identity: options.identity,
  });
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities,
    dataConverter: options.dataConverter,
    // Clients read the key ids from it before they encrypt (src/codec/key-announcement.ts).
    identity: workerIdentity(options.dataConverter),
    ...(options.workflowBundleCode
      ? { workflowBundle: { code: options.workflowBundleCode } }
      : { workflowsPath: workflowBundleOptions().workflowsPath }),
    interceptors: {
      activity: [
        ...(options.tracing ? [(ctx: Context) => ({ inbound: new ReleaseTracingInterceptor(ctx) })] : []),
        ...(options.activityInterceptors ?? []),
      ],
    },
    shutdownGraceTime: options.shutdownGraceTime ?? DEFAULT_SHUTDOWN_GRACE,
    // Thousands of releases wait at approvals for hours: they cost history, not memory, once evicted.
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
  });
}
