import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { toMillis } from '../domain/duration';
import { FailureType } from '../domain/failures';
import type { BackfillDeclaration, BackfillProgress, PendingMigration, MigrationPlan } from '../domain/migration-plan';
import type { Database } from '../domain/spec';
import { resetBackfill, runBackfillChunk } from '../service-db/backfill';
import { loadMigrationFiles, MigrationFileError } from '../service-db/migration-files';
import { pendingMigrations, runMigration, type MigrationOutcome, type MigrationTarget } from '../service-db/migrator';
import { checkMigrationSafety } from '../service-db/safety-check';
import { MissingSecret, resolveSecret } from '../providers/secrets';
import type { ActivityDeps } from './deps';
import { HEARTBEAT_EVERY_MS } from './provider-call';

/** Which service database a request is about. */
export interface ServiceDatabaseRequest {
  releaseId: string;
  database: Database;
}

export interface MigrationRequest extends ServiceDatabaseRequest {
  name: string;
  direction: 'up' | 'down';
}

export interface BackfillRequest extends ServiceDatabaseRequest {
  migration: string;
  backfill: BackfillDeclaration;
  /** Return after about this long, so the workflow can show progress; it calls again until done. */
  chunkMs: number;
}

export function createMigrationActivities(deps: ActivityDeps) {
  /** The service's database, from the worker's environment: the URL never enters workflow history. */
  function connect(database: Database): { db: Knex; target: MigrationTarget } {
    let url: string;
    try {
      url = resolveSecret(database.url, 'database.url');
    } catch (err) {
      if (err instanceof MissingSecret) throw ApplicationFailure.nonRetryable(err.message, err.type);
      throw err;
    }
    const db = deps.serviceDatabases.get(url, { lockTimeout: String(toMillis(database.lockTimeout)) });
    return { db, target: { url, directory: database.migrations, tableName: database.migrationsTable } };
  }

  return {
    /**
     * Reads the migrations folder, asks knex what is pending, and runs the safety check on the
     * pending files. Changes nothing.
     */
    async planSchemaChanges({ database }: ServiceDatabaseRequest): Promise<MigrationPlan> {
      const { db, target } = connect(database);
      try {
        const files = loadMigrationFiles(target.directory);
        const pendingNames = new Set(await pendingMigrations(db, target));
        const pending = files.filter((file) => pendingNames.has(file.name));
        // Anything any file deprecates may be dropped by a contract, including files applied long ago.
        const findings = await checkMigrationSafety(pending, { deprecated: files.flatMap((file) => file.deprecates) });
        const summary = (file: (typeof files)[number]): PendingMigration => ({
          name: file.name,
          phase: file.phase,
          transactional: file.transactional,
          ...(file.backfill ? { backfill: file.backfill } : {}),
        });
        return {
          expand: pending.filter((file) => file.phase === 'expand').map(summary),
          contract: pending.filter((file) => file.phase === 'contract').map(summary),
          findings,
        };
      } catch (err) {
        if (err instanceof MigrationFileError)
          throw ApplicationFailure.nonRetryable(err.message, FailureType.MigrationFileError);
        throw err;
      }
    },

    /** Applies or reverts one migration file; a file already in the wanted state is left alone. */
    async applySchemaMigration(request: MigrationRequest): Promise<MigrationOutcome> {
      const activity = Context.current();
      const { db, target } = connect(request.database);
      const heartbeat = setInterval(() => activity.heartbeat(), HEARTBEAT_EVERY_MS);
      const log = deps.log.child({ releaseId: request.releaseId, migration: request.name });
      try {
        const outcome = await runMigration(db, target, request.name, request.direction, {
          retryForMs: toMillis(request.database.busyRetryFor),
          onWait: (message) => {
            log.warn(message);
            activity.heartbeat();
          },
        });
        // A reverted migration's backfill must start over if the release is tried again.
        if (outcome === 'reverted') await resetBackfill(db, request.releaseId, request.name);
        log.info({ direction: request.direction, outcome }, `migration ${request.name}: ${outcome}`);
        return outcome;
      } finally {
        clearInterval(heartbeat);
      }
    },

    /**
     * Runs a backfill's batches for about `chunkMs` and returns where it stands. Resumes from the
     * checkpoint row in the service's database (and the heartbeat details), never from the start.
     */
    async runBackfill(request: BackfillRequest): Promise<BackfillProgress> {
      const activity = Context.current();
      const { db } = connect(request.database);
      // A retry after a crash or a timeout: the checkpoint row says where the last run got to (the
      // heartbeat details say so too, but the row is committed with the batches, so it is exact).
      const resuming = activity.info.attempt > 1;
      let last: BackfillProgress | undefined = activity.info.heartbeatDetails as BackfillProgress | undefined;
      activity.heartbeat(last);
      // Batches may wait on a busy table: keep the heartbeat going between them too.
      const heartbeat = setInterval(() => activity.heartbeat(last), HEARTBEAT_EVERY_MS);
      try {
        const progress = await runBackfillChunk(db, {
          releaseId: request.releaseId,
          migration: request.migration,
          backfill: request.backfill,
          chunkMs: request.chunkMs,
          resuming,
          onBatch: (batch) => {
            last = batch;
            activity.heartbeat(batch);
          },
          shouldStop: () => activity.cancellationSignal.aborted,
        });
        if (resuming)
          deps.log.info(
            { releaseId: request.releaseId, migration: request.migration, lastKey: progress.lastKey },
            'backfill resumed from its checkpoint',
          );
        return progress;
      } finally {
        clearInterval(heartbeat);
      }
    },
  };
}
