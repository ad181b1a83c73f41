import type { ReleaseContext } from '../context';
import { atStepBoundary } from '../step-boundary';

/** Deploying: starts the new version beside the stable one and waits until it is ready for traffic. */
export async function deploying(ctx: ReleaseContext): Promise<void> {
  const { input, spec, release, saga, activities } = ctx;
  await atStepBoundary(ctx);
  release.enterStage('Deploying', `starting ${spec.version} with ${spec.deploy.provider}`);
  saga.push({
    name: `undeploy ${spec.version}`,
    run: () =>
      activities.undo.undeploy.executeWithOptions({ summary: `rollback: undeploy ${spec.version}` }, [
        {
          facts: release.facts,
          config: spec.deploy,
          version: spec.version,
          stepId: `${input.releaseId}/undeploy`,
          compensating: true,
          fence: release.rollbackFence(),
        },
      ]),
  });
  const canary = await activities.forward.deploy.executeWithOptions({ summary: `deploy ${spec.version}` }, [
    {
      facts: release.facts,
      config: spec.deploy,
      version: spec.version,
      stepId: `${input.releaseId}/deploy`,
      fence: release.nextFence(),
    },
  ]);
  release.canary = canary;
  if (canary) {
    const endpoints = canary.endpoints.map((endpoint) => `${endpoint.host}:${endpoint.port}`).join(', ');
    release.emit('step', `${spec.version} ready on ${endpoints}`);
  }
}
