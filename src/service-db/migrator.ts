import type { Knex } from 'knex';
import { acquireAdvisoryLock } from './advisory-lock';
import { listMigrationFiles, loadMigrationFile } from './migration-files';

/**
 * Runs a service's migrations one file at a time through knex's own Migrator and migration table,
 * so a file applied once is never applied twice (knex records it in the same transaction as the
 * file's statements), and users can still run `knex migrate:*` on the same folder.
 *
 * Two things knex does not survive, and how this file deals with them:
 * - `knex_migrations_lock` stays locked when its holder dies mid-way through a non-transactional
 *   migration. Tollgate serialises migrators with a PostgreSQL advisory lock instead, which dies
 *   with its session; holding it, a locked row can only be a dead migrator's, and is freed.
 * - `migrate.latest()` runs every pending file in one transaction; one file per call keeps each
 *   transaction (and the locks it holds) as short as the file.
 */
export interface MigrationTarget {
  url: string;
  directory: string;
  /** knex's migration table in the service's database. */
  tableName: string;
}

export type MigrationOutcome = 'applied' | 'already applied' | 'reverted' | 'not applied';

export interface RunMigrationOptions {
  /** How long to keep retrying while the table is too busy to lock (lock_timeout errors). */
  retryForMs: number;
  /** Called while waiting, for heartbeats and logs. */
  onWait?: (message: string) => void;
}

/** PostgreSQL's lock_not_available (lock_timeout) and deadlock_detected: the table was busy; try again. */
const BUSY_CODES = new Set(['55P03', '40P01']);

export class FolderMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly directory: string) {}

  async getMigrations(): Promise<string[]> {
    return listMigrationFiles(this.directory);
  }

  getMigrationName(name: string): string {
    return name;
  }

  async getMigration(name: string): Promise<Knex.Migration> {
    const file = loadMigrationFile(this.directory, name);
    return {
      up: file.module.up,
      down:
        file.module.down ??
        (() => {
          throw new Error(
            `${name} has no down(knex): it cannot be reverted; write one, or keep the expanded schema on rollback`,
          );
        }),
      ...(file.module.config ? { config: file.module.config } : {}),
    };
  }
}

function migratorConfig(target: MigrationTarget, name?: string): Knex.MigratorConfig {
  return {
    migrationSource: new FolderMigrationSource(target.directory),
    tableName: target.tableName,
    ...(name ? { name } : {}),
  };
}

/** The files knex has not applied yet, in its order. */
export async function pendingMigrations(db: Knex, target: MigrationTarget): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migratorConfig(target))) as [unknown[], string[]];
  return pending;
}

export async function isApplied(db: Knex, target: MigrationTarget, name: string): Promise<boolean> {
  const [completed] = (await db.migrate.list(migratorConfig(target))) as [{ name: string }[], string[]];
  return completed.some((migration) => migration.name === name);
}

/**
 * Applies (`up`) or reverts (`down`) one migration file. Idempotent: a file already in the wanted
 * state is left alone, so a retried activity does nothing twice.
 */
export async function runMigration(
  db: Knex,
  target: MigrationTarget,
  name: string,
  direction: 'up' | 'down',
  options: RunMigrationOptions,
): Promise<MigrationOutcome> {
  const lock = await acquireAdvisoryLock(target.url, `tollgate-migrations:${target.tableName}`, {
    waitMs: options.retryForMs,
    onWait: (waited) =>
      options.onWait?.(`waiting ${Math.round(waited / 1000)}s for another migration of this database to finish`),
  });
  try {
    await freeStaleKnexLock(db, target, options);
    const applied = await isApplied(db, target, name);
    if (direction === 'up' && applied) return 'already applied';
    if (direction === 'down' && !applied) return 'not applied';
    await retryWhileBusy(
      () =>
        direction === 'up'
          ? db.migrate.up(migratorConfig(target, name))
          : db.migrate.down(migratorConfig(target, name)),
      name,
      options,
    );
    return direction === 'up' ? 'applied' : 'reverted';
  } finally {
    await lock.release();
  }
}

/** Holding the advisory lock, a locked knex lock row belongs to a migrator that died. */
async function freeStaleKnexLock(db: Knex, target: MigrationTarget, options: RunMigrationOptions): Promise<void> {
  const lockTable = `${target.tableName}_lock`;
  if (!(await db.schema.hasTable(lockTable))) return;
  const locked = await db<{ is_locked: number }>(lockTable).where({ is_locked: 1 }).first();
  if (!locked) return;
  options.onWait?.(
    `${lockTable} was left locked by a migration that died; freeing it (Tollgate holds the advisory lock)`,
  );
  await db.migrate.forceFreeMigrationsLock(migratorConfig(target));
}

async function retryWhileBusy(run: () => Promise<unknown>, name: string, options: RunMigrationOptions): Promise<void> {
  const started = Date.now();
  for (let attempt = 1, delay = 500; ; attempt++, delay = Math.min(delay * 2, 10_000)) {
    try {
      await run();
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const waited = Date.now() - started;
      if (!code || !BUSY_CODES.has(code)) throw new Error(`${name}: ${(err as Error).message}`, { cause: err });
      if (waited + delay > options.retryForMs) {
        throw new Error(
          `${name}: the table stayed too busy to lock for ${Math.round(waited / 1000)}s (${attempt} attempts, each giving up after lock_timeout so the application never waited); try again when traffic is lower`,
          { cause: err },
        );
      }
      options.onWait?.(
        `${name}: table busy (${(err as Error).message}); attempt ${attempt}, trying again in ${delay}ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
