import knex, { type Knex } from 'knex';
import { tollgateMigrations } from '../../migrations';
import { TollgateError } from '../domain/errors';

/** A knex handle on Tollgate's own PostgreSQL. */
export function openDatabase(url: string, pool: Knex.PoolConfig = { min: 0, max: 10 }): Knex {
  return knex({ client: 'pg', connection: url, pool });
}

/** Brings Tollgate's tables up to date; safe to run from several workers at once (knex's lock). */
export async function migrateToLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({
    migrationSource: tollgateMigrations,
    tableName: 'tollgate_migrations',
  })) as [number, string[]];
  return applied;
}

/** Tollgate's PostgreSQL cannot be reached: one line that says where and what to check, no driver stack. */
export class DatabaseUnreachable extends TollgateError {
  constructor(url: string, cause: unknown) {
    const where = (() => {
      try {
        const parsed = new URL(url);
        return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
      } catch {
        return 'DATABASE_URL';
      }
    })();
    const reason = (cause as { code?: string; message?: string }).code ?? (cause as Error).message ?? String(cause);
    super(
      'DATABASE_UNREACHABLE',
      `cannot reach Tollgate's PostgreSQL at ${where} (${reason}); is it running, and is DATABASE_URL right?`,
    );
  }
}
