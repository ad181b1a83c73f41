import type { ReleaseContext } from '../context';

/**
 * setWeight: moves `weight` percent of traffic to the new version. Its compensation, pushed first,
 * restores the weight from before; consecutive ones merge, so a rollback moves all traffic back in
 * one step.
 */
export async function setWeight(ctx: ReleaseContext, index: number, weight: number): Promise<void> {
  const { input, spec, plan, release, saga, activities } = ctx;
  const traffic = spec.traffic;
  // The spec's validation requires traffic wherever the plan has setWeight steps.
  if (!traffic) throw new Error('the spec has no traffic provider to set a weight with');
  const before = release.weight;
  // Rolling moves whole servers; canary and blue-green move weights.
  const mode = plan.strategy === 'rolling' ? ('servers' as const) : ('weights' as const);
  saga.push({
    name: `restore traffic to ${before}% on ${spec.version}`,
    mergeKey: 'traffic',
    run: async () => {
      await activities.undo.setWeight.executeWithOptions({ summary: `rollback: setWeight ${before}` }, [
        {
          facts: release.facts,
          config: traffic,
          weight: before,
          previousWeight: release.weight,
          canary: release.canary,
          baseline: release.baseline,
          mode,
          stepId: `${input.releaseId}/restore-weight`,
          compensating: true,
          fence: release.rollbackFence(),
        },
      ]);
      release.setWeight(before);
    },
  });
  const result = await activities.forward.setWeight.executeWithOptions({ summary: `setWeight ${weight}` }, [
    {
      facts: release.facts,
      config: traffic,
      weight,
      previousWeight: before,
      canary: release.canary,
      baseline: release.baseline,
      mode,
      stepId: `${input.releaseId}/step-${index}`,
      fence: release.nextFence(),
    },
  ]);
  release.baseline ??= result.baseline;
  release.setWeight(weight, plan.steps[index + 1]?.kind === 'setWeight');
  release.emit('step', `traffic at ${weight}%${result.verified ? ' (read back)' : ''}`);
}
