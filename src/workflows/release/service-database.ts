import type { MigrationRequest } from '../../activities/migrations';
import type { PendingMigration } from '../../domain/migration-plan';
import type { Database } from '../../domain/spec';
import type { ReleaseContext } from './context';

/** The spec's database section. Only stages that found migrations to run ask for it, so it is there. */
export function serviceDatabase({ spec }: ReleaseContext): Database {
  if (!spec.database) throw new Error('unreachable: migrations are only planned for a spec with a database');
  return spec.database;
}

/** The activity request that runs one migration file, up (expand, contract) or down (revert). */
export function migrationRequest(
  ctx: ReleaseContext,
  migration: PendingMigration,
  direction: 'up' | 'down',
): MigrationRequest {
  return { releaseId: ctx.input.releaseId, database: serviceDatabase(ctx), name: migration.name, direction };
}
