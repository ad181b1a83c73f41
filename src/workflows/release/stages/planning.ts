import type { Database } from '../../../domain/spec';
import { patched } from '@temporalio/workflow';
import { local, planning as planningActivities } from '../activity-proxies';
import { PATCHES } from '../patches';
import type { ReleaseContext } from '../context';
import { StopRelease } from '../stop-reasons';

/** Planning: refuses the release before anything changes when the error budget or the schema says no. */
export async function planning(ctx: ReleaseContext): Promise<void> {
  const { spec, plan, release, errorBudget } = ctx;
  release.enterStage('Planning', `${plan.strategy}: ${plan.steps.map((step) => step.label).join(' → ')}`);
  if (patched(PATCHES.secretsCheckedAtPlanning)) await checkSecrets(ctx);
  const budget = await errorBudget.atPlanning();
  if (budget) release.emit('step', budget.reason);
  if (budget?.measured && !budget.open) throw new StopRelease(`not started: ${budget.reason}`);
  if (spec.database) await planMigrations(ctx, spec.database);
}

/** Every `env:` the spec uses must be set where the workers run: found now, not by the step (or the undo) that needs it. */
async function checkSecrets({ spec }: ReleaseContext): Promise<void> {
  const missing = await local.findMissingSecrets(spec);
  if (missing.length === 0) return;
  const list = missing.map(({ variable, path }) => `env:${variable} (used at ${path})`).join(', ');
  throw new StopRelease(
    `not started: the worker's environment lacks ${list}; set ${missing.length === 1 ? 'it' : 'them'} where the workers run and start the release again`,
  );
}

/** What the schema side of the release will do, refused before anything changes if it is unsafe. */
async function planMigrations({ input, release }: ReleaseContext, database: Database): Promise<void> {
  const plan = await planningActivities.planSchemaChanges.executeWithOptions(
    { summary: 'schema: plan and safety check' },
    [{ releaseId: input.releaseId, database }],
  );
  release.migrationPlan = plan;
  if (plan.findings.length > 0) {
    const findings = plan.findings.map(
      (finding) => `${finding.file}: \`${finding.statement}\`: ${finding.problem}. Instead: ${finding.fix}`,
    );
    throw new StopRelease(
      `not started: the schema safety check refused ${findings.length} statement(s):\n- ${findings.join('\n- ')}`,
    );
  }
  release.setMigrations(
    [...plan.expand, ...plan.contract].map(({ name, phase }) => ({ name, phase, state: 'pending' as const })),
  );
  release.emit(
    'step',
    `schema: ${plan.expand.length} expand and ${plan.contract.length} contract migration(s) pending; the safety check found nothing unsafe`,
  );
}
