/**
 * The schema side of a release, as the workflow sees it: which phase-tagged migrations are
 * pending, what the safety check found, and how far a backfill has come.
 *
 * Plain types only: workflows import this file (see duration.ts for why there is no zod here).
 * The files themselves are read and checked by src/service-db, on the worker.
 */

export type MigrationPhase = 'expand' | 'contract';

/**
 * A backfill declared by an expand migration: copy or compute values for the new columns of rows
 * written before the expand, in keyset-paginated batches.
 *
 *   exports.backfill = { table: 'users', key: 'id', set: { primary_email: 'email_address' } };
 */
export interface BackfillDeclaration {
  /** The table, optionally schema-qualified ("billing.invoices"). */
  table: string;
  /** A unique, ordered column to page by (the primary key). */
  key: string;
  /** Column → SQL expression over the row's own columns, e.g. { primary_email: 'email_address' }. */
  set: Record<string, string>;
  /**
   * SQL predicate for rows that still need the backfill. By default a row needs it when any `set`
   * column differs from its expression, so rows the application already wrote are left alone.
   */
  where?: string;
  /** Rows in the first batch; each batch is its own short transaction. */
  batchSize: number;
  /**
   * How long a batch should take ("100ms" when not given): later batches grow or shrink toward it.
   * It bounds how long an application statement can wait on a row the backfill holds.
   */
  batchTime?: string;
  /** false: every batch has `batchSize` rows (no adaptation). */
  adaptBatchSize?: boolean;
  /** Rest between batches, a duration such as "50ms". */
  pause: string;
  /** Optional ceiling on rows per second. */
  maxRowsPerSecond?: number;
}

export interface PendingMigration {
  /** The file name, as knex records it in its migration table. */
  name: string;
  phase: MigrationPhase;
  /** Runs outside a transaction (knex's `config.transaction = false`), e.g. CREATE INDEX CONCURRENTLY. */
  transactional: boolean;
  backfill?: BackfillDeclaration;
}

/** One problem the safety check found, with the way to do it safely. */
export interface SafetyFinding {
  file: string;
  phase: MigrationPhase;
  /** The SQL statement, as knex would send it. */
  statement: string;
  /** What is wrong, in a sentence. */
  problem: string;
  /** The safe alternative. */
  fix: string;
}

/** What the planning activity reads from the service's migrations folder and database. */
export interface MigrationPlan {
  /** Pending migrations in the order knex would run them. */
  expand: PendingMigration[];
  contract: PendingMigration[];
  findings: SafetyFinding[];
}

/**
 * A backfill reports back this often (one activity per chunk), so its progress shows in the status
 * query, the UI and Slack. bench:backfill runs its backfills in chunks this long too.
 */
export const BACKFILL_CHUNK_MS = 5000;

/** Where a backfill stands; kept durably in the service's database and in the status query. */
export interface BackfillProgress {
  migration: string;
  table: string;
  /** The last key done, as text; the next batch starts after it. */
  lastKey?: string;
  /** The largest key when the backfill started: rows inserted later were written by the new code. */
  upperKey?: string;
  /** Rows looked at and rows actually rewritten (rows already right are not rewritten). */
  rowsScanned: number;
  rowsUpdated: number;
  /** Rows in the key range when the backfill started. */
  rowsTotal: number;
  /** Rows scanned per second, over this run. */
  ratePerSecond: number;
  /** Seconds left at the current rate; undefined until there is a rate. */
  etaSeconds?: number;
  done: boolean;
  /** How many times the backfill resumed from its checkpoint (after a crash or a retry). */
  resumes: number;
}

/** "backfill users (20261101_add_primary_email): 45,000 of 100,000 rows (45%), 9,000 rows/s, about 6s left" */
export function describeBackfill(backfill: BackfillProgress): string {
  const percent = backfill.rowsTotal
    ? Math.min(100, Math.floor((backfill.rowsScanned / backfill.rowsTotal) * 100))
    : 100;
  const eta = backfill.etaSeconds !== undefined ? `, about ${Math.ceil(backfill.etaSeconds)}s left` : '';
  return (
    `backfill ${backfill.table} (${backfill.migration}): ${backfill.rowsScanned} of ` +
    `${backfill.rowsTotal} rows (${percent}%), ${Math.round(backfill.ratePerSecond)} rows/s${eta}`
  );
}
