import { patched } from '@temporalio/workflow';
import { bookkeeping } from '../activity-proxies';
import type { ReleaseContext } from '../context';
import { PATCHES } from '../patches';
import { atStepBoundary } from '../step-boundary';

/** Queued: joins the lane of its service and environment and waits for its turn. */
export async function queued(ctx: ReleaseContext): Promise<void> {
  const { input, spec, laneId, release } = ctx;
  release.enterStage('Queued', `waiting for the ${spec.service}/${spec.environment} lane`, input.initiator.id);
  await bookkeeping.joinLane.executeWithOptions({ summary: `join lane ${laneId}` }, [
    {
      laneId,
      service: spec.service,
      environment: spec.environment,
      releaseId: input.releaseId,
      version: spec.version,
      production: spec.production === true,
    },
  ]);
  const { lane } = release;
  if (!lane.granted) {
    await release.waitUntil(() => lane.granted || lane.waitingFor !== undefined);
    if (!lane.granted) release.setHold({ open: false, reason: `waiting for ${lane.waitingFor} to finish` });
    await release.waitUntil(() => lane.granted);
  }
  // Admitted: the release's fencing epoch is newer than every earlier release's of the lane.
  if (patched(PATCHES.fencedSteps)) {
    release.fenceEpoch = await bookkeeping.takeFenceEpoch.executeWithOptions(
      { summary: `fencing epoch of ${laneId}` },
      [laneId],
    );
  }
  release.emit(
    'step',
    `admitted by the lane; rollback target is ${release.status.stableVersion ?? 'none (first release of this lane)'}`,
  );
  await atStepBoundary(ctx);
}
