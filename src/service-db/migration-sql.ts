import knex, { type Knex } from 'knex';
import { parse, type ParseResult } from 'libpg-query';
import type { MigrationFile } from './migration-files';

/**
 * The SQL a migration would send, found by running its `up` (or `down`) against a knex that records
 * every query instead of connecting. What the safety check reads is then exactly what knex would
 * run, builder calls and raw SQL alike, compiled by knex's own PostgreSQL dialect.
 *
 * Limits of a dry run: queries that read data get no rows, so a migration that loops over rows it
 * selects shows no statements for that loop, and `hasTable` / `hasColumn` answer false.
 */

type QueryObject = { sql: string; bindings?: readonly unknown[] };

// knex's PostgreSQL dialect and its binding formatter (what `toQuery()` uses); neither is in knex's
// public types, so they are required by path and typed here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PostgresClient = require('knex/lib/dialects/postgres') as typeof knex.Client;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const queryExecutioner = require('knex/lib/execution/internal/query-executioner') as {
  formatQuery(sql: string, bindings: readonly unknown[] | undefined, timeZone: undefined, client: Knex.Client): string;
};

/** What every dry-run query answers: no rows, nothing changed. */
const EMPTY_RESULT = { rows: [], rowCount: 0, command: 'SELECT', fields: [] };

/** knex's own transaction control around a transactional migration: not part of the migration. */
const TRANSACTION_CONTROL = /^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|SET TRANSACTION)\b/i;

/** The statements `up` (or `down`) would send, in order, one statement per entry, bindings inlined. */
export async function renderMigrationSql(file: MigrationFile, direction: 'up' | 'down' = 'up'): Promise<string[]> {
  const run = direction === 'up' ? file.module.up : file.module.down;
  if (!run) return [];
  const queries: string[] = [];
  const dryRun = dryRunKnex((sql) => queries.push(sql));
  try {
    // As knex's migrator does: in a transaction unless the file says `config.transaction = false`.
    if (file.transactional) await dryRun.transaction((trx) => run(trx));
    else await run(dryRun);
  } finally {
    await dryRun.destroy();
  }
  const statements: string[] = [];
  for (const sql of queries) statements.push(...(await splitStatements(sql)));
  return statements;
}

/**
 * A knex for PostgreSQL that never connects: each query is handed to `record` with its bindings
 * inlined, and answered with an empty result.
 */
function dryRunKnex(record: (sql: string) => void): Knex {
  class DryRunClient extends PostgresClient {
    override acquireConnection(): Promise<object> {
      return Promise.resolve({ dryRun: true });
    }
    override releaseConnection(): Promise<void> {
      return Promise.resolve();
    }
    // Replaces knex's query(), which would position the bindings ($1, $2) and call the driver.
    override query(_connection: unknown, queryParam: string | QueryObject): Promise<unknown> {
      const query = typeof queryParam === 'string' ? { sql: queryParam } : queryParam;
      const sql = queryExecutioner.formatQuery(query.sql, query.bindings, undefined, this).trim();
      if (sql && !TRANSACTION_CONTROL.test(sql)) record(sql);
      return Promise.resolve({ ...query, response: EMPTY_RESULT });
    }
  }
  // No `connection`, so knex creates neither a driver connection nor a pool.
  return knex({ client: DryRunClient });
}

/**
 * One query as PostgreSQL's parser splits it: a raw string may hold several statements. A query the
 * parser refuses is returned whole, for the safety check to report.
 */
export async function splitStatements(sql: string): Promise<string[]> {
  let tree: ParseResult;
  try {
    tree = (await parse(sql)) as ParseResult;
  } catch {
    return [sql.trim()];
  }
  // The parser's locations are byte offsets into the UTF-8 text, not string indexes.
  const bytes = Buffer.from(sql, 'utf8');
  return (tree.stmts ?? [])
    .map(({ stmt_location: start = 0, stmt_len: length = 0 }) =>
      bytes
        .subarray(start, length ? start + length : undefined)
        .toString('utf8')
        .trim(),
    )
    .filter((statement) => statement.length > 0);
}
