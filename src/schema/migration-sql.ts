import knex, { type Knex } from 'knex';
import type { MigrationFile } from './migration-files';

/**
 * The SQL a migration would send, found by running its `up` (or `down`) against a knex that
 * records every query instead of connecting: what the safety check reads is exactly what knex
 * would run, builder calls and raw SQL alike. Queries that read data get empty results.
 */
type QueryObject = { sql: string; bindings?: readonly unknown[] };

// knex's own PostgreSQL dialect, so the SQL is compiled exactly as it would be for a real database.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PostgresClient = require('knex/lib/dialects/postgres') as typeof knex.Client;

const TRANSACTION_CONTROL = /^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b/i;

export async function renderMigrationSql(file: MigrationFile, direction: 'up' | 'down' = 'up'): Promise<string[]> {
  const recorded: string[] = [];
  let format: (query: QueryObject) => string = (query) => query.sql;

  class RecordingClient extends PostgresClient {
    override acquireConnection(): Promise<object> {
      return Promise.resolve({ recording: true });
    }
    override releaseConnection(): Promise<void> {
      return Promise.resolve();
    }
    override query(_connection: unknown, queryParam: string | QueryObject): Promise<unknown> {
      const query = typeof queryParam === 'string' ? { sql: queryParam, bindings: [] } : queryParam;
      const sql = format(query).trim();
      if (sql && !TRANSACTION_CONTROL.test(sql)) recorded.push(sql);
      return Promise.resolve({ ...query, response: { rows: [], rowCount: 0, command: 'SELECT' } });
    }
  }

  const recorder: Knex = knex({ client: RecordingClient, connection: {}, pool: { min: 0, max: 1 } });
  format = (query) => (query.bindings?.length ? recorder.raw(query.sql, query.bindings as Knex.RawBinding[]).toQuery() : query.sql);
  try {
    const run = direction === 'up' ? file.module.up : file.module.down;
    if (!run) return [];
    if (file.transactional) await recorder.transaction((trx) => run(trx));
    else await run(recorder);
    return recorded;
  } finally {
    await recorder.destroy();
  }
}
