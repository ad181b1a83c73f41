import { strategyApprovers } from '../../../domain/strategy-approvers';
import type { ReleaseContext } from '../context';
import { migrationRequest, serviceDatabase } from '../service-database';
import { awaitApproval } from '../steps/approval';
import { stepFailure, StopRelease } from '../stop-reasons';
import { atStepBoundary } from '../step-boundary';

/** AwaitingContract: the point of no return needs all traffic on the new version, the bake passed, and a person's yes. */
export async function awaitingContract(ctx: ReleaseContext): Promise<void> {
  const { spec, release } = ctx;
  const migrations = release.migrationPlan?.contract ?? [];
  if (migrations.length === 0) return;
  await atStepBoundary(ctx);
  const approval = serviceDatabase(ctx).contractApproval ?? { from: strategyApprovers(spec.strategy), quorum: 1 };
  release.enterStage(
    'AwaitingContract',
    `${migrations.map((migration) => migration.name).join(', ')}; after it, no rollback`,
  );
  await awaitApproval(ctx, -1, {
    kind: 'approval',
    approval,
    label: `approve the contract (no rollback after it) from ${approval.from.join(', ')}`,
  });
  release.emit('step', 'contract approved');
}

/** Contracting: drops what only the old version needed. From here on a rollback is refused: fix forward. */
export async function contracting(ctx: ReleaseContext): Promise<void> {
  const { release, activities } = ctx;
  const migrations = release.migrationPlan?.contract ?? [];
  if (migrations.length === 0) return;
  await atStepBoundary(ctx);
  const contractedAt = new Date().toISOString();
  release.setContractedAt(contractedAt);
  release.enterStage(
    'Contracting',
    `${migrations.map((migration) => migration.name).join(', ')}; rollback is no longer possible`,
  );
  for (const migration of migrations) {
    release.setMigrationState(migration.name, 'running');
    try {
      const outcome = await activities.forward.applySchemaMigration.executeWithOptions(
        { summary: `contract ${migration.name}` },
        [migrationRequest(ctx, migration, 'up')],
      );
      release.emit('step', `contract ${migration.name}: ${outcome}`);
    } catch (err) {
      throw new StopRelease(
        `contract ${migration.name} failed (${stepFailure(err)}); the schema may be partly contracted and cannot be rolled back: fix forward`,
      );
    }
    release.setMigrationState(migration.name, 'applied');
  }
}
