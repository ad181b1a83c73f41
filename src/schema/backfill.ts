import type { Knex } from 'knex';
import { toMillis } from '../domain/duration';
import type { BackfillDeclaration, BackfillProgress } from '../domain/schema-change';
import { CHECKPOINT_TABLE, ensureCheckpointTable, progressOf, readCheckpoint, type CheckpointRow } from './backfill-checkpoint';

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
  /** Set when this run picks up after a failed one (a crash, a timeout): counted in `resumes`. */
  resuming?: boolean;
  /** Called after each batch (the activity heartbeats the progress). */
  onBatch?: (progress: BackfillProgress) => void;
  /** Checked between batches: cancellation stops cleanly after a committed batch. */
  shouldStop?: () => boolean;
}

/** Per batch: a row lock the application holds makes the batch wait this long at most, then retry. */
const BATCH_LOCK_TIMEOUT = '2s';
const BATCH_STATEMENT_TIMEOUT = '60s';
/** Above this many rows (by the planner's estimate), rows to do are estimated rather than counted. */
const EXACT_COUNT_LIMIT = 1_000_000;
const BUSY_CODES = new Set(['55P03', '40P01', '57014']);

export async function runBackfillChunk(db: Knex, args: BackfillChunkArgs): Promise<BackfillProgress> {
  const { backfill } = args;
  await ensureCheckpointTable(db);
  let row = (await readCheckpoint(db, args.releaseId, args.migration)) ?? (await startBackfill(db, args));
  if (row.finished_at) return progressOf(row);
  if (args.resuming) row = await countResume(db, args);

  const pauseMs = toMillis(backfill.pause);
  const started = Date.now();
  let scannedThisRun = 0;
  for (;;) {
    const batchStarted = Date.now();
    const result = await runBatchWithRetry(db, args, row);
    row = result.row;
    scannedThisRun += result.scanned;
    const elapsedSeconds = Math.max(0.001, (Date.now() - started) / 1000);
    const progress = progressOf(row, scannedThisRun / elapsedSeconds);
    args.onBatch?.(progress);
    if (progress.done || Date.now() - started >= args.chunkMs || args.shouldStop?.()) return progress;
    await sleep(throttleMs(backfill, result.scanned, Date.now() - batchStarted, pauseMs));
  }
}

/** Forgets a backfill, so it starts over (its migration was reverted). */
export async function resetBackfill(db: Knex, releaseId: string, migration: string): Promise<void> {
  if (!(await db.schema.hasTable(CHECKPOINT_TABLE))) return;
  await db(CHECKPOINT_TABLE).where({ release_id: releaseId, migration }).delete();
}

export async function readBackfillProgress(db: Knex, releaseId: string, migration: string): Promise<BackfillProgress | undefined> {
  const row = await readCheckpoint(db, releaseId, migration);
  return row ? progressOf(row) : undefined;
}

/** The first run: fix the key range and count the rows in it. */
async function startBackfill(db: Knex, args: BackfillChunkArgs): Promise<CheckpointRow> {
  const { table, key } = args.backfill;
  const bounds = await db.raw<{ rows: { upper_key: string | null }[] }>(`SELECT max(??)::text AS upper_key FROM ${quoteTable(db, table)}`, [key]);
  const upperKey = bounds.rows[0]?.upper_key ?? null;
  const total = upperKey === null ? 0 : await rowsUpTo(db, table, key, upperKey);
  await db(CHECKPOINT_TABLE)
    .insert({
      release_id: args.releaseId,
      migration: args.migration,
      table_name: table,
      upper_key: upperKey,
      rows_total: total,
      finished_at: upperKey === null ? db.fn.now() : null,
    })
    .onConflict(['release_id', 'migration'])
    .ignore();
  return (await readCheckpoint(db, args.releaseId, args.migration))!;
}

async function rowsUpTo(db: Knex, table: string, key: string, upperKey: string): Promise<number> {
  const estimate = await db.raw<{ rows: { estimate: number | null }[] }>(`SELECT reltuples::float8 AS estimate FROM pg_class WHERE oid = ?::regclass`, [
    table,
  ]);
  const estimated = estimate.rows[0]?.estimate ?? 0;
  if (estimated > EXACT_COUNT_LIMIT) return Math.round(estimated);
  const counted = await db.raw<{ rows: { total: string }[] }>(`SELECT count(*) AS total FROM ${quoteTable(db, table)} WHERE ?? <= ?`, [key, upperKey]);
  return Number(counted.rows[0].total);
}

async function countResume(db: Knex, args: BackfillChunkArgs): Promise<CheckpointRow> {
  await db(CHECKPOINT_TABLE)
    .where({ release_id: args.releaseId, migration: args.migration })
    .update({ resumes: db.raw('resumes + 1'), updated_at: db.fn.now() });
  return (await readCheckpoint(db, args.releaseId, args.migration))!;
}

interface BatchResult {
  row: CheckpointRow;
  scanned: number;
}

/** A batch that met a lock the application holds gives up after a moment and tries again. */
async function runBatchWithRetry(db: Knex, args: BackfillChunkArgs, row: CheckpointRow): Promise<BatchResult> {
  for (let attempt = 1, delay = 200; ; attempt++, delay = Math.min(delay * 2, 5000)) {
    try {
      return await runBatch(db, args, row);
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!BUSY_CODES.has(code) || attempt >= 30 || args.shouldStop?.()) throw err;
      await sleep(delay);
    }
  }
}

/** One batch and its checkpoint, in one transaction. */
async function runBatch(db: Knex, args: BackfillChunkArgs, row: CheckpointRow): Promise<BatchResult> {
  const { backfill } = args;
  return db.transaction(async (trx) => {
    await trx.raw(`SET LOCAL lock_timeout = '${BATCH_LOCK_TIMEOUT}'`);
    await trx.raw(`SET LOCAL statement_timeout = '${BATCH_STATEMENT_TIMEOUT}'`);
    const { rows } = await trx.raw<{ rows: { last_key: string | null; scanned: number; updated: number }[] }>(batchSql(trx, backfill, row.last_key !== null), [
      ...(row.last_key !== null ? [row.last_key] : []),
      row.upper_key,
      backfill.batchSize,
    ]);
    const { last_key: lastKey, scanned, updated } = rows[0];
    const done = scanned < backfill.batchSize;
    const [saved] = await trx<CheckpointRow>(CHECKPOINT_TABLE)
      .where({ release_id: args.releaseId, migration: args.migration })
      .update({
        last_key: lastKey ?? row.last_key,
        rows_scanned: trx.raw('rows_scanned + ?', [scanned]),
        rows_updated: trx.raw('rows_updated + ?', [updated]),
        updated_at: trx.fn.now(),
        finished_at: done ? trx.fn.now() : null,
      })
      .returning('*');
    return { row: saved, scanned };
  });
}

/**
 * The next `batchSize` keys after the last one, up to the upper key; the rows among them that
 * still need it get their new values. One statement: the keys it reads and the rows it writes
 * are the same snapshot.
 */
function batchSql(db: Knex, backfill: BackfillDeclaration, hasLastKey: boolean): string {
  const table = quoteTable(db, backfill.table);
  const key = quoteIdentifier(backfill.key);
  const assignments = Object.entries(backfill.set).map(([column, expression]) => `${quoteIdentifier(column)} = (${literal(expression)})`);
  const needsIt =
    (backfill.where && literal(backfill.where)) ??
    Object.entries(backfill.set)
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
    )
    SELECT (SELECT max(batch_key)::text FROM batch) AS last_key,
           (SELECT count(*) FROM batch)::int AS scanned,
           (SELECT count(*) FROM updated)::int AS updated`;
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

function quoteTable(_db: Knex, table: string): string {
  return table.split('.').map(quoteIdentifier).join('.');
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
