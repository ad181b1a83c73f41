import { describeFlagChange } from '../../../domain/flags';
import type { SetFlagStep } from '../../../domain/spec';
import type { ReleaseContext } from '../context';

/**
 * setFlag: changes a feature flag through the spec's flag provider. It reads the flag first and
 * pushes the reading as its compensation before it writes, so a rollback puts the flag back as
 * the release found it; consecutive ones on the same flag merge into the oldest reading.
 */
export async function setFlag(ctx: ReleaseContext, index: number, change: SetFlagStep): Promise<void> {
  const { input, spec, release, saga, activities } = ctx;
  const config = spec.flags;
  // The spec's validation requires flags wherever the plan has setFlag steps.
  if (!config) throw new Error('the spec has no flag provider to set a flag with');
  const stepId = `${input.releaseId}/step-${index}`;
  const before = await activities.forward.readFlag.executeWithOptions({ summary: `read flag ${change.flag}` }, [
    { facts: release.facts, config, stepId: `${stepId}/read`, flag: change.flag },
  ]);
  saga.push({
    name: `restore flag ${change.flag} as it was`,
    mergeKey: `flag:${change.flag}`,
    run: async () => {
      await activities.undo.restoreFlag.executeWithOptions({ summary: `rollback: restore flag ${change.flag}` }, [
        {
          facts: release.facts,
          config,
          stepId: `${input.releaseId}/restore-flag/${change.flag}`,
          snapshot: before,
          fence: release.rollbackFence(),
        },
      ]);
      release.markFlagRestored(change.flag);
    },
  });
  await activities.forward.setFlag.executeWithOptions({ summary: `setFlag ${describeFlagChange(change)}` }, [
    { facts: release.facts, config, stepId, change, fence: release.nextFence() },
  ]);
  release.setFlag({
    flag: change.flag,
    percentage: change.percentage,
    variant: change.variant,
    segment: change.segment,
  });
  release.emit('step', `flag ${describeFlagChange(change)}`);
}
