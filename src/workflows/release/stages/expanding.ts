import type { ReleaseContext } from '../context';
import { migrationRequest, serviceDatabase } from '../service-database';
import { atStepBoundary } from '../step-boundary';

/** Expanding: what both versions can run on, before the new version gets any traffic. */
export async function expanding(ctx: ReleaseContext): Promise<void> {
  const { release, saga, activities } = ctx;
  const migrations = release.migrationPlan?.expand ?? [];
  if (migrations.length === 0) return;
  const database = serviceDatabase(ctx);
  await atStepBoundary(ctx);
  const revert = database.onRollback === 'revert';
  release.enterStage('Expanding', migrations.map((migration) => migration.name).join(', '));
  for (const migration of migrations) {
    saga.push({
      name: revert
        ? `revert ${migration.name}`
        : `keep ${migration.name} (the old version runs on the expanded schema)`,
      run: async () => {
        if (!revert) return release.setMigrationState(migration.name, 'kept');
        await activities.undo.applySchemaMigration.executeWithOptions(
          { summary: `rollback: revert ${migration.name}` },
          [migrationRequest(ctx, migration, 'down')],
        );
        release.setMigrationState(migration.name, 'reverted');
      },
    });
    release.setMigrationState(migration.name, 'running');
    const outcome = await activities.forward.applySchemaMigration.executeWithOptions(
      { summary: `expand ${migration.name}` },
      [migrationRequest(ctx, migration, 'up')],
    );
    release.setMigrationState(migration.name, 'applied');
    release.emit('step', `expand ${migration.name}: ${outcome}`);
  }
}
