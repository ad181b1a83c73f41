import type { Knex } from 'knex';
import { toMillis } from '../domain/duration';
import type { BackfillDeclaration, BackfillProgress } from '../domain/migration-plan';
import {
  CHECKPOINT_TABLE,
  ensureCheckpointTable,
  errorCode,
  progressOf,
  readCheckpoint,
  type CheckpointRow,
} from './backfill-checkpoint';
import { required } from '../domain/required';

/**
 * Fills the new columns of rows written before the expand, in keyset-paginated batches on the
 * live database:
 *
 * - each batch is one statement in its own short transaction, with its own lock and statement
 *   timeouts, and commits together with its checkpoint row: a crash loses at most the batch that
 *   was running, and the next run starts right after the last committed key;
 * - rows that already hold the right value (the application wrote them after the expand) are not
 *   rewritten;
 * - keys above the largest key at the first start are left alone: the new code (or the expand's
 *   sync trigger) wrote those rows, so the backfill ends however fast the application inserts.
 */
export interface BackfillChunkArgs {
  releaseId: string;
  migration: string;
  backfill: BackfillDeclaration;
  /** Return after the batch that crosses this much time, so the caller can report progress. */
  chunkMs: number;
  /**
   * The last progress the previous attempt heartbeated (Temporal heartbeat details). Its presence
   * says this run is a retry, so it counts as a resume; where to go on from is the checkpoint
   * row's to say, as the heartbeat may lag the last committed batch.
   */
  resumeFrom?: BackfillProgress;
  /** The same as passing `resumeFrom`, for callers that only know it is a retry (attempt > 1). */
  resuming?: boolean;
  /** Called after each batch (the activity heartbeats the progress). */
  onBatch?: (progress: BackfillProgress) => void;
  /** Checked between batches: cancellation stops cleanly after a committed batch. */
  shouldStop?: () => boolean;
}

/** Per batch: a row lock the application holds makes the batch wait this long at most, then retry. */
const BATCH_LOCK_TIMEOUT = '2s';
/** Per batch: a batch is meant to take milliseconds; one this slow is halved rather than left running. */
const BATCH_STATEMENT_TIMEOUT = '30s';
/** Above this many rows (by the planner's estimate), rows to do are estimated rather than counted. */
const EXACT_COUNT_LIMIT = 1_000_000;
/** lock_not_available, deadlock_detected, query_canceled (the statement timeout): worth another try. */
const BUSY_CODES = new Set(['55P03', '40P01', '57014']);
const STATEMENT_TIMEOUT_CODE = '57014';
const MAX_BATCH_ATTEMPTS = 30;
/** Sleeps are cut into slices this long, so cancellation is seen during a long throttle rest. */
const SLEEP_SLICE_MS = 250;

export async function runBackfillChunk(db: Knex, args: BackfillChunkArgs): Promise<BackfillProgress> {
  const { backfill } = args;
  await ensureCheckpointTable(db);
  const existing = (await readCheckpoint(db, args.releaseId, args.migration)) ?? (await startBackfill(db, args));
  if (existing.finished_at) return progressOf(existing);
  await openChunk(db, args);

  const pauseMs = toMillis(backfill.pause);
  const started = Date.now();
  let batchSize = backfill.batchSize;
  let scannedThisRun = 0;
  for (;;) {
    const batchStarted = Date.now();
    const result = await runBatchWithRetry(db, args, batchSize);
    const row = result.row;
    batchSize = result.batchSize;
    scannedThisRun += result.scanned;
    const elapsedSeconds = Math.max(0.001, (Date.now() - started) / 1000);
    const progress = progressOf(row, scannedThisRun / elapsedSeconds);
    args.onBatch?.(progress);
    if (progress.done || Date.now() - started >= args.chunkMs || args.shouldStop?.()) {
      await closeChunk(db, args);
      return progress;
    }
    await sleep(throttleMs(backfill, result.scanned, Date.now() - batchStarted, pauseMs), args.shouldStop);
  }
}

/** Forgets a backfill, so it starts over (its migration was reverted). */
export async function resetBackfill(db: Knex, releaseId: string, migration: string): Promise<void> {
  if (!(await readCheckpoint(db, releaseId, migration))) return;
  await db(CHECKPOINT_TABLE).where({ release_id: releaseId, migration }).delete();
}

/** The checkpoint as last committed; undefined when the backfill never started (or was reset). */
export async function readBackfillProgress(
  db: Knex,
  releaseId: string,
  migration: string,
): Promise<BackfillProgress | undefined> {
  const row = await readCheckpoint(db, releaseId, migration);
  return row ? progressOf(row) : undefined;
}

/** The first run: fix the key range and count the rows in it. */
async function startBackfill(db: Knex, args: BackfillChunkArgs): Promise<CheckpointRow> {
  const { table, key } = args.backfill;
  // ORDER BY … DESC LIMIT 1 rather than max(): an index scan, and it works for uuid keys too.
  // Qualified, so ORDER BY sorts by the key itself, never by its text.
  const column = `${quoteTable(table)}.${quoteIdentifier(key)}`;
  const bounds = await db.raw<{ rows: { upper_key: string }[] }>(
    `SELECT ${column}::text AS upper_key FROM ${quoteTable(table)} ORDER BY ${column} DESC LIMIT 1`,
  );
  const upperKey = bounds.rows[0]?.upper_key ?? null;
  const total = upperKey === null ? 0 : await rowsUpTo(db, args.backfill, upperKey);
  await db(CHECKPOINT_TABLE)
    .insert({
      release_id: args.releaseId,
      migration: args.migration,
      table_name: table,
      upper_key: upperKey,
      rows_total: total,
      finished_at: upperKey === null ? db.fn.now() : null,
    })
    // Two workers starting at once: the first one's range stands.
    .onConflict(['release_id', 'migration'])
    .ignore();
  return required(await readCheckpoint(db, args.releaseId, args.migration), 'backfill checkpoint just written');
}

async function rowsUpTo(db: Knex, backfill: BackfillDeclaration, upperKey: string): Promise<number> {
  const table = quoteTable(backfill.table);
  const estimate = await db.raw<{ rows: { estimate: number | null }[] }>(
    `SELECT reltuples::float8 AS estimate FROM pg_class WHERE oid = ?::regclass`,
    [table],
  );
  // reltuples is -1 for a table never vacuumed or analysed: then count.
  const estimated = estimate.rows[0]?.estimate ?? 0;
  if (estimated > EXACT_COUNT_LIMIT) return Math.round(estimated);
  const counted = await db.raw<{ rows: { total: string }[] }>(
    `SELECT count(*) AS total FROM ${table} WHERE ${quoteIdentifier(backfill.key)} <= ?`,
    [upperKey],
  );
  return Number(counted.rows[0].total);
}

/**
 * Marks a chunk as running. Finding the mark already set means the chunk before never returned
 * (a crash): with the caller's own word (`resumeFrom`, `resuming`), that counts one resume.
 */
async function openChunk(db: Knex, args: BackfillChunkArgs): Promise<CheckpointRow> {
  const callerSaysRetry = args.resumeFrom !== undefined || args.resuming === true;
  const [row] = await db<CheckpointRow>(CHECKPOINT_TABLE)
    .where({ release_id: args.releaseId, migration: args.migration })
    .update({
      resumes: db.raw(`resumes + CASE WHEN running_since IS NOT NULL OR ? THEN 1 ELSE 0 END`, [callerSaysRetry]),
      running_since: db.fn.now(),
      updated_at: db.fn.now(),
    })
    .returning('*');
  return row;
}

/** A chunk that returns (done, out of time, or cancelled) was no crash. */
async function closeChunk(db: Knex, args: BackfillChunkArgs): Promise<void> {
  await db(CHECKPOINT_TABLE)
    .where({ release_id: args.releaseId, migration: args.migration })
    .update({ running_since: null });
}

interface BatchResult {
  row: CheckpointRow;
  scanned: number;
  /** The batch size that worked; smaller than asked after a statement timeout. */
  batchSize: number;
}

/**
 * A batch that met a lock the application holds gives up after a moment and tries again; one that
 * ran into the statement timeout tries again with half as many rows.
 */
async function runBatchWithRetry(db: Knex, args: BackfillChunkArgs, batchSize: number): Promise<BatchResult> {
  for (let attempt = 1, delay = 200; ; attempt++, delay = Math.min(delay * 2, 5000)) {
    try {
      return { ...(await runBatch(db, args, batchSize)), batchSize };
    } catch (err) {
      const code = errorCode(err);
      if (!BUSY_CODES.has(code) || attempt >= MAX_BATCH_ATTEMPTS || args.shouldStop?.()) throw err;
      if (code === STATEMENT_TIMEOUT_CODE) batchSize = Math.max(1, Math.floor(batchSize / 2));
      await sleep(delay);
    }
  }
}

/**
 * One batch and its checkpoint, in one transaction. The checkpoint row is locked first and its
 * last key read under that lock: it, not this process's memory, says where the batch starts, so
 * two runners of the same backfill (a retry while the old attempt still runs) take turns rather
 * than doing the same rows twice or moving the checkpoint backwards.
 */
async function runBatch(
  db: Knex,
  args: BackfillChunkArgs,
  batchSize: number,
): Promise<{ row: CheckpointRow; scanned: number }> {
  return db.transaction(async (trx) => {
    // No bindings, so pg sends both in one simple-protocol round trip; LOCAL ends with the transaction.
    await trx.raw(
      `SET LOCAL lock_timeout = '${BATCH_LOCK_TIMEOUT}'; SET LOCAL statement_timeout = '${BATCH_STATEMENT_TIMEOUT}'`,
    );
    const checkpoint = await trx<CheckpointRow>(CHECKPOINT_TABLE)
      .where({ release_id: args.releaseId, migration: args.migration })
      .forUpdate()
      .first();
    if (!checkpoint)
      throw new Error(
        `backfill ${args.migration}: its checkpoint row was deleted while it ran (was the migration reverted?)`,
      );
    if (checkpoint.finished_at) return { row: checkpoint, scanned: 0 };
    const hasLastKey = checkpoint.last_key !== null;
    const { rows } = await trx.raw<{ rows: (CheckpointRow & { batch_scanned: number })[] }>(
      batchSql(args.backfill, hasLastKey),
      [
        ...(hasLastKey ? [checkpoint.last_key] : []),
        checkpoint.upper_key,
        batchSize,
        batchSize,
        args.releaseId,
        args.migration,
      ],
    );
    const { batch_scanned: scanned, ...row } = rows[0];
    return { row, scanned };
  });
}

/**
 * The next `batchSize` keys after the last one, up to the upper key; the rows among them that
 * still need it get their new values, and the checkpoint moves to the last key looked at. One
 * statement: the keys it reads, the rows it writes and the checkpoint it moves agree.
 *
 * The key is bound as text: PostgreSQL types the parameter from the column it is compared with,
 * so integer, bigint, text and uuid keys all page the same way.
 */
function batchSql(backfill: BackfillDeclaration, hasLastKey: boolean): string {
  const table = quoteTable(backfill.table);
  const key = quoteIdentifier(backfill.key);
  const assignments = Object.entries(backfill.set).map(
    ([column, expression]) => `${quoteIdentifier(column)} = (${literal(expression)})`,
  );
  const needsIt = backfill.where
    ? literal(backfill.where)
    : Object.entries(backfill.set)
        .map(([column, expression]) => `${quoteIdentifier(column)} IS DISTINCT FROM (${literal(expression)})`)
        .join(' OR ');
  return `
    WITH batch AS (
      SELECT ${key} AS batch_key FROM ${table}
      WHERE ${hasLastKey ? `${key} > ? AND ` : ''}${key} <= ?
      ORDER BY ${key}
      LIMIT ?
    ), updated AS (
      UPDATE ${table} SET ${assignments.join(', ')}
      FROM batch
      WHERE ${table}.${key} = batch.batch_key AND (${needsIt})
      RETURNING 1
    ), counts AS (
      -- Qualified: a bare batch_key in ORDER BY would name the text output column, and '99' > '100'.
      SELECT (SELECT batch.batch_key::text AS key_text FROM batch ORDER BY batch.batch_key DESC LIMIT 1) AS last_key,
             (SELECT count(*) FROM batch)::int AS scanned,
             (SELECT count(*) FROM updated)::int AS updated
    )
    UPDATE ${CHECKPOINT_TABLE} AS checkpoint SET
      last_key = coalesce(counts.last_key, checkpoint.last_key),
      rows_scanned = checkpoint.rows_scanned + counts.scanned,
      rows_updated = checkpoint.rows_updated + counts.updated,
      updated_at = now(),
      -- A short batch means the range is exhausted.
      finished_at = CASE WHEN counts.scanned < ? THEN now() END
    FROM counts
    WHERE checkpoint.release_id = ? AND checkpoint.migration = ?
    RETURNING checkpoint.*, counts.scanned AS batch_scanned`;
}

/** How long to rest after a batch: the declared pause, or longer to stay under maxRowsPerSecond. */
function throttleMs(backfill: BackfillDeclaration, rows: number, batchMs: number, pauseMs: number): number {
  if (!backfill.maxRowsPerSecond) return pauseMs;
  const minimumMs = (rows / backfill.maxRowsPerSecond) * 1000;
  return Math.max(pauseMs, minimumMs - batchMs);
}

/** The migration's own SQL, kept as written: a `?` in it (a jsonb operator) is not a knex binding. */
function literal(sql: string): string {
  return sql.replace(/\?/g, '\\?');
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** "billing.invoices" → "billing"."invoices" (the declaration's schema allows at most one dot). */
function quoteTable(table: string): string {
  return table.split('.').map(quoteIdentifier).join('.');
}

async function sleep(ms: number, shouldStop?: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !shouldStop?.()) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(SLEEP_SLICE_MS, until - Date.now())));
  }
}
