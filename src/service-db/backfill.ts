import type { Knex } from 'knex';
import { escapeLiteral } from 'pg';
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
 * Fills the new columns of rows written before the expand, in batches of consecutive keys on the
 * live database:
 *
 * - each batch is a range of the key (`key > last AND key <= bound`, read on the primary key's
 *   index: no join, no list of keys) in its own short transaction, with its own lock and
 *   statement timeouts, and commits together with its checkpoint row: a crash loses at most the
 *   batch that was running, and the next run starts right after the last committed key;
 * - the batch size adapts so that a batch takes about `batchTime`: large enough that the cost of a
 *   transaction is small beside its rows, short enough that an application statement waiting on
 *   one of its row locks waits no longer than that;
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
/**
 * Above this many rows (by the planner's estimate), rows to do are estimated rather than counted:
 * counting a million rows took longer than the first 50 batches (bench:backfill).
 */
const EXACT_COUNT_LIMIT = 100_000;
/** lock_not_available, deadlock_detected, query_canceled (the statement timeout): worth another try. */
const BUSY_CODES = new Set(['55P03', '40P01', '57014']);
const STATEMENT_TIMEOUT_CODE = '57014';
const MAX_BATCH_ATTEMPTS = 30;
/** How long a batch should take when `batchTime` is not declared. */
export const DEFAULT_BATCH_TIME = '100ms';
/** Adaptation never grows a batch beyond this many rows (the declaration's own ceiling). */
export const MAX_BATCH_ROWS = 100_000;
/** Sleeps are cut into slices this long, so cancellation is seen during a long throttle rest. */
const SLEEP_SLICE_MS = 250;

export async function runBackfillChunk(db: Knex, args: BackfillChunkArgs): Promise<BackfillProgress> {
  const { backfill } = args;
  await ensureCheckpointTable(db);
  const existing = (await readCheckpoint(db, args.releaseId, args.migration)) ?? (await startBackfill(db, args));
  if (existing.finished_at) return progressOf(existing);
  await openChunk(db, args);

  const pauseMs = toMillis(backfill.pause);
  const batchTimeMs = toMillis(backfill.batchTime ?? DEFAULT_BATCH_TIME);
  const adapt = backfill.adaptBatchSize !== false;
  const started = Date.now();
  // Adapting: start where the last chunk's adaptation arrived, not from the declared size again.
  let batchSize = adapt
    ? Math.min(MAX_BATCH_ROWS, Math.max(backfill.batchSize, existing.batch_size ?? 0))
    : backfill.batchSize;
  let scannedThisRun = 0;
  for (;;) {
    const batchStarted = Date.now();
    const result = await runBatchWithRetry(db, args, batchSize);
    const row = result.row;
    batchSize = adapt
      ? nextBatchSize(
          result.batchSize,
          Date.now() - batchStarted,
          batchTimeMs,
          Math.min(backfill.batchSize, result.batchSize),
        )
      : result.batchSize;
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

/** How much a batch may grow over the last one. */
const MAX_GROWTH = 4;

/**
 * The next batch's size: the last one scaled toward the target time, at most halved at a time (one
 * slow batch, a checkpoint or a vacuum, does not swing it) and at most quadrupled (a small batch's
 * time is mostly its commit, so scaling it up overestimates the next one's time: growing fast is
 * safe, and the first batches of a chunk no longer creep up from the declared size), never below
 * the declared size (`floor`) nor above MAX_BATCH_ROWS. The floor matters on a starved machine:
 * there every batch is slow, and shrinking them made each one pay its commit for fewer rows,
 * slower still (bench:backfill fell to 1,000 rows/s). Only a statement timeout takes a batch below it.
 */
export function nextBatchSize(lastSize: number, lastMs: number, targetMs: number, floor = 1): number {
  const factor = lastMs <= 0 ? MAX_GROWTH : Math.min(MAX_GROWTH, Math.max(0.5, targetMs / lastMs));
  return Math.min(MAX_BATCH_ROWS, Math.max(floor, Math.round(lastSize * factor)));
}

/**
 * A chunk that returns (done, out of time, or cancelled) was no crash. Its commit is synchronous
 * (the session's default), so it also makes every batch committed before it durable: what the
 * chunk reports, above all "done", is never lost to a crash of the database server.
 */
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
 *
 * `synchronous_commit = off` for the batch only: its commit does not wait for the WAL flush. A
 * crash of the database server can then lose the last few batches, but never half of one: each
 * batch and its checkpoint are one transaction, so the backfill resumes from the last checkpoint
 * that survived and does those rows again (it is idempotent). Nothing is reported before it is
 * durable: closeChunk's synchronous commit flushes them all.
 *
 * Five round trips: BEGIN, the limits with the checkpoint lock (one message), the bound, the
 * batch, COMMIT. On a busy 2-core machine a round trip cost about 1 ms, and round trips were a
 * twelfth of the backfill's time (bench:backfill).
 */
async function runBatch(
  db: Knex,
  args: BackfillChunkArgs,
  batchSize: number,
): Promise<{ row: CheckpointRow; scanned: number }> {
  const { backfill } = args;
  return db.transaction(async (trx) => {
    const query = async <Row>(sql: string, bindings: readonly (string | number | boolean)[] = []) => {
      const result = await trx.raw<{ rows: Row[] } | { rows: Row[] }[]>(sql, [...bindings]);
      // A message of several statements answers with each one's result: the last one's rows.
      return (Array.isArray(result) ? result[result.length - 1] : result).rows;
    };
    // The limits and the checkpoint lock in one message (no bindings: pg's simple protocol allows
    // several statements); LOCAL ends with the transaction.
    const checkpoint = (
      await query<CheckpointRow>(
        `SET LOCAL lock_timeout = '${BATCH_LOCK_TIMEOUT}'; SET LOCAL statement_timeout = '${BATCH_STATEMENT_TIMEOUT}'; SET LOCAL synchronous_commit = off; ` +
          `SELECT * FROM ${CHECKPOINT_TABLE} WHERE release_id = ${escapeLiteral(args.releaseId)} AND migration = ${escapeLiteral(args.migration)} FOR UPDATE`,
      )
    )[0];
    if (!checkpoint)
      throw new Error(
        `backfill ${args.migration}: its checkpoint row was deleted while it ran (was the migration reverted?)`,
      );
    if (checkpoint.finished_at) return { row: checkpoint, scanned: 0 };
    const upperKey = required(checkpoint.upper_key, 'upper key of an unfinished backfill');
    const after = checkpoint.last_key === null ? [] : [checkpoint.last_key];
    // The batch's last key: the batchSize-th key after the last one, read from the index alone.
    const last = (
      await query<{ bound: string }>(boundSql(backfill, after.length > 0), [...after, upperKey, batchSize - 1])
    )[0]?.bound;
    // Fewer than batchSize keys left: this batch takes them all and is the last.
    const scanned =
      last !== undefined
        ? batchSize
        : Number((await query<{ keys: string }>(countSql(backfill, after.length > 0), [...after, upperKey]))[0].keys);
    const rows = await query<CheckpointRow>(batchSql(backfill, after.length > 0), [
      ...after,
      last ?? upperKey,
      last ?? upperKey,
      scanned,
      batchSize,
      last === undefined,
      args.releaseId,
      args.migration,
    ]);
    return { row: rows[0], scanned };
  });
}

/** `key > ? AND key <= ?` (the first batch has no lower bound). */
function keyRange(backfill: BackfillDeclaration, hasLastKey: boolean): string {
  const column = `${quoteTable(backfill.table)}.${quoteIdentifier(backfill.key)}`;
  return `${hasLastKey ? `${column} > ? AND ` : ''}${column} <= ?`;
}

/**
 * The key `offset` places after the last one, up to the upper key; no row when fewer remain.
 * Qualified, so ORDER BY sorts by the key itself, never by its text ('99' > '100').
 */
function boundSql(backfill: BackfillDeclaration, hasLastKey: boolean): string {
  const table = quoteTable(backfill.table);
  const column = `${table}.${quoteIdentifier(backfill.key)}`;
  return `SELECT ${column}::text AS bound FROM ${table} WHERE ${keyRange(backfill, hasLastKey)} ORDER BY ${column} OFFSET ? LIMIT 1`;
}

function countSql(backfill: BackfillDeclaration, hasLastKey: boolean): string {
  return `SELECT count(*) AS keys FROM ${quoteTable(backfill.table)} WHERE ${keyRange(backfill, hasLastKey)}`;
}

/**
 * The rows of the key range that still need it get their new values, and the checkpoint moves to
 * the range's last key. One statement: the rows it writes and the checkpoint it moves agree. The
 * range's bounds are parameters, not a join, so the planner sees them and reads the primary
 * key's index from the first key to the last (EXPLAIN in bench/backfill.ts shows it).
 *
 * Keys are bound as text: PostgreSQL types the parameter from the column it is compared with,
 * so integer, bigint, text and uuid keys all page the same way.
 */
export function batchSql(backfill: BackfillDeclaration, hasLastKey: boolean): string {
  const table = quoteTable(backfill.table);
  const assignments = Object.entries(backfill.set).map(
    ([column, expression]) => `${quoteIdentifier(column)} = (${literal(expression)})`,
  );
  const needsIt = backfill.where
    ? literal(backfill.where)
    : Object.entries(backfill.set)
        .map(([column, expression]) => `${quoteIdentifier(column)} IS DISTINCT FROM (${literal(expression)})`)
        .join(' OR ');
  return `
    WITH updated AS (
      UPDATE ${table} SET ${assignments.join(', ')}
      WHERE ${keyRange(backfill, hasLastKey)} AND (${needsIt})
      RETURNING 1
    )
    UPDATE ${CHECKPOINT_TABLE} AS checkpoint SET
      last_key = ?,
      rows_scanned = checkpoint.rows_scanned + ?::bigint,
      rows_updated = checkpoint.rows_updated + (SELECT count(*) FROM updated),
      batch_size = ?::integer,
      updated_at = now(),
      finished_at = CASE WHEN ?::boolean THEN now() END
    WHERE checkpoint.release_id = ? AND checkpoint.migration = ?
    RETURNING checkpoint.*`;
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
