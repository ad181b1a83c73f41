import type { Knex } from 'knex';
import type { BackfillProgress } from '../domain/schema-change';

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
  last_key: string | null;
  upper_key: string | null;
  rows_scanned: string;
  rows_updated: string;
  rows_total: string;
  resumes: number;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export async function ensureCheckpointTable(db: Knex): Promise<void> {
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
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        PRIMARY KEY (release_id, migration)
      )`);
  } catch (err) {
    // Two workers creating it at once: one wins, the other finds it there.
    if (!['23505', '42P07'].includes((err as { code?: string }).code ?? '')) throw err;
  }
}

export async function readCheckpoint(db: Knex, releaseId: string, migration: string): Promise<CheckpointRow | undefined> {
  if (!(await db.schema.hasTable(CHECKPOINT_TABLE))) return undefined;
  return db<CheckpointRow>(CHECKPOINT_TABLE).where({ release_id: releaseId, migration }).first();
}

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
    ...(rate > 0 && !done ? { etaSeconds: Math.max(0, total - scanned) / rate } : {}),
    done,
    resumes: row.resumes,
  };
}
