import type { BackfillDeclaration, BackfillProgress, PendingMigration } from '../../../domain/migration-plan';
import { BACKFILL_CHUNK_MS, describeBackfill } from '../../../domain/migration-plan';
import type { ReleaseContext } from '../context';
import { serviceDatabase } from '../service-database';
import { TOLLGATE_ACTOR } from '../state';
import { atStepBoundary } from '../step-boundary';

type BackfillMigration = PendingMigration & { backfill: BackfillDeclaration };

/** Backfilling: rows written before the expand get their new columns, a batch at a time. */
export async function backfilling(ctx: ReleaseContext): Promise<void> {
  const { release } = ctx;
  const backfills = (release.migrationPlan?.expand ?? []).filter(
    (migration): migration is BackfillMigration => migration.backfill !== undefined,
  );
  if (backfills.length === 0) return;
  await atStepBoundary(ctx);
  release.enterStage(
    'Backfilling',
    backfills.map((migration) => `${migration.backfill.table} (${migration.name})`).join(', '),
  );
  for (const migration of backfills) {
    const progress = await backfill(ctx, migration);
    release.emit(
      'step',
      `${describeBackfill(progress)}: done, ${progress.rowsUpdated} row(s) rewritten` +
        (progress.resumes ? `, resumed ${progress.resumes} time(s) from its checkpoint` : ''),
      TOLLGATE_ACTOR,
      {
        backfill: {
          migration: migration.name,
          table: progress.table,
          rowsScanned: progress.rowsScanned,
          rowsUpdated: progress.rowsUpdated,
          resumes: progress.resumes,
        },
      },
    );
  }
}

/** One backfill, chunk by chunk until done; a pause or a freeze holds it between chunks. */
async function backfill(ctx: ReleaseContext, migration: BackfillMigration): Promise<BackfillProgress> {
  const { input, release, activities } = ctx;
  for (;;) {
    const progress = await activities.forward.runBackfill.executeWithOptions(
      { summary: `backfill ${migration.backfill.table} (${migration.name})` },
      [
        {
          releaseId: input.releaseId,
          database: serviceDatabase(ctx),
          migration: migration.name,
          backfill: migration.backfill,
          chunkMs: BACKFILL_CHUNK_MS,
        },
      ],
    );
    release.setBackfill(progress);
    if (progress.done) return progress;
    await atStepBoundary(ctx);
  }
}
