import { formatMillis } from '../../../domain/duration';
import type { ReleaseContext } from '../context';
import { atStepBoundary } from '../step-boundary';

/** Baking: watches the new version at 100% for the bake time, then retires the old version. */
export async function baking(ctx: ReleaseContext): Promise<void> {
  const { spec, plan, release } = ctx;
  const stable = release.status.stableVersion;
  const retire = stable !== undefined && stable !== spec.version;
  if (plan.bakeMs === 0 && !retire) return;
  await atStepBoundary(ctx);
  release.enterStage(
    'Baking',
    plan.bakeMs ? `watching ${spec.version} at 100% for ${formatMillis(plan.bakeMs)}` : `retiring ${stable}`,
  );
  if (plan.bakeMs > 0) {
    const seen = release.asked.promotions;
    await release.waitUntil(() => release.asked.promotions !== seen, plan.bakeMs, {
      summary: `bake ${formatMillis(plan.bakeMs)}`,
    });
  }
  if (retire) await retireStable(ctx, stable);
}

/** Stops the version the release replaced; its compensation starts it again. */
async function retireStable(ctx: ReleaseContext, stable: string): Promise<void> {
  const { input, spec, release, saga, activities } = ctx;
  await atStepBoundary(ctx);
  saga.push({
    name: `restart ${stable}`,
    run: async () => {
      await activities.undo.deploy.executeWithOptions({ summary: `rollback: redeploy ${stable}` }, [
        {
          facts: release.facts,
          config: spec.deploy,
          version: stable,
          stepId: `${input.releaseId}/restore-stable`,
          compensating: true,
          fence: release.rollbackFence(),
        },
      ]);
    },
  });
  await activities.forward.undeploy.executeWithOptions({ summary: `retire ${stable}` }, [
    {
      facts: release.facts,
      config: spec.deploy,
      version: stable,
      stepId: `${input.releaseId}/retire-stable`,
      fence: release.nextFence(),
    },
  ]);
  release.emit('step', `retired ${stable}`);
}
