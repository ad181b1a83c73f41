import knex, { type Knex } from 'knex';
import { tollgateMigrations } from '../../migrations';

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
