import type { RolloutRequest } from '../../../domain/rollout';
import type { ReleaseContext } from '../context';

/**
 * rollout: one batch of a Deployment updated in place (recreate, or rolling with Kubernetes'
 * RollingUpdate). Its undoing is the deploy stage's compensation, which puts the Deployment back as
 * the release found it, so it pushes none of its own.
 */
export async function rollout(ctx: ReleaseContext, index: number, request: RolloutRequest): Promise<void> {
  const { input, spec, release, activities } = ctx;
  const progress = await activities.forward.rollout.executeWithOptions(
    { summary: `rollout ${spec.version}: ${request.updated} of ${request.replicas}` },
    [
      {
        facts: release.facts,
        config: spec.deploy,
        version: spec.version,
        stepId: `${input.releaseId}/step-${index}`,
        rollout: request,
        fence: release.nextFence(),
      },
    ],
  );
  // The share of pods on the new version stands for the weight: analyses and the status read it.
  release.setWeight(Math.round((100 * progress.updated) / progress.replicas));
  release.emit('step', `${progress.updated} of ${progress.replicas} replicas on ${spec.version}`);
}
