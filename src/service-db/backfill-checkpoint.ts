import type { Knex } from 'knex';
import type { BackfillProgress } from '../domain/migration-plan';

/**
 * Where each backfill stands, in the service's own database: the batch and its checkpoint commit
 * in one transaction, so after a crash the backfill resumes exactly after the last batch that
 * committed. One row per release and migration.
 */
export const CHECKPOINT_TABLE = 'tollgate_backfill_checkpoints';

export interface CheckpointRow {
  release_id: string;
  migration: string;
  table_name: string;
  /** The last key done, as text (PostgreSQL casts it back to the key's type when it compares). */
  last_key: string | null;
  /** The largest key at the first start; null when the table was empty. */
  upper_key: string | null;
  /** bigint columns: pg hands them over as strings. */
  rows_scanned: string;
  rows_updated: string;
  rows_total: string;
  resumes: number;
  /**
   * The size of the last batch, so the next chunk starts at the size the adaptation reached rather
   * than ramping up from the declared size again (chunks are 5 s; the ramp took a few batches).
   */
  batch_size: number | null;
  /**
   * Set while a chunk runs, cleared when it returns. A chunk that finds it set knows the one before
   * died mid-way (SIGKILL, a lost worker, an error): that is how a resume is counted without the
   * caller's help.
   */
  running_since: Date | null;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** Columns added after the table's first version, with their types. */
const ADDED_COLUMNS: readonly (readonly [string, string])[] = [
  ['running_since', 'timestamptz'],
  ['batch_size', 'integer'],
];

/** Knex instances whose database is known to have the table, so each chunk need not ask again. */
const ensured = new WeakSet<Knex>();

/** Creates the table if it is missing (idempotent, and safe when two workers race to create it). */
export async function ensureCheckpointTable(db: Knex): Promise<void> {
  if (ensured.has(db)) return;
  try {
    await db.raw(`
      CREATE TABLE IF NOT EXISTS ${CHECKPOINT_TABLE} (
        release_id text NOT NULL,
        migration text NOT NULL,
        table_name text NOT NULL,
        last_key text,
        upper_key text,
        rows_scanned bigint NOT NULL DEFAULT 0,
        rows_updated bigint NOT NULL DEFAULT 0,
        rows_total bigint NOT NULL DEFAULT 0,
        resumes integer NOT NULL DEFAULT 0,
        running_since timestamptz,
        batch_size integer,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        PRIMARY KEY (release_id, migration)
      )`);
  } catch (err) {
    // Two workers creating it at once: one wins, the other finds it there.
    if (!['23505', '42P07'].includes(errorCode(err))) throw err;
  }
  // Tables made by older Tollgate versions; ALTER only when needed (it takes a strong lock).
  for (const [column, type] of ADDED_COLUMNS) {
    const { rows } = await db.raw<{ rows: { present: boolean }[] }>(
      `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = ? AND NOT attisdropped) AS present`,
      [CHECKPOINT_TABLE, column],
    );
    if (!rows[0]?.present) await db.raw(`ALTER TABLE ${CHECKPOINT_TABLE} ADD COLUMN IF NOT EXISTS ${column} ${type}`);
  }
  ensured.add(db);
}

export async function readCheckpoint(
  db: Knex | Knex.Transaction,
  releaseId: string,
  migration: string,
): Promise<CheckpointRow | undefined> {
  const { rows } = await db.raw<{ rows: { present: boolean }[] }>(`SELECT to_regclass(?) IS NOT NULL AS present`, [
    CHECKPOINT_TABLE,
  ]);
  if (!rows[0]?.present) return undefined;
  return db<CheckpointRow>(CHECKPOINT_TABLE).where({ release_id: releaseId, migration }).first();
}

/** The checkpoint as the workflow shows it; `rate` is this run's rows scanned per second. */
export function progressOf(row: CheckpointRow, rate = 0): BackfillProgress {
  const scanned = Number(row.rows_scanned);
  const total = Number(row.rows_total);
  const done = row.finished_at !== null;
  return {
    migration: row.migration,
    table: row.table_name,
    ...(row.last_key !== null ? { lastKey: row.last_key } : {}),
    ...(row.upper_key !== null ? { upperKey: row.upper_key } : {}),
    rowsScanned: scanned,
    rowsUpdated: Number(row.rows_updated),
    rowsTotal: total,
    ratePerSecond: rate,
    // Rows inserted below the upper key after the start (random uuids) can push scanned past total.
    ...(rate > 0 && !done ? { etaSeconds: Math.max(0, total - scanned) / rate } : {}),
    done,
    resumes: row.resumes,
  };
}

export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
