import { patched } from '@temporalio/workflow';
import { laneGate } from '../../domain/lane-policy';
import { afterEarlierDecisions } from '../decision-proof';
import type { ReleaseContext } from './context';
import { PATCHES } from './patches';

/**
 * Holds between two steps while the lane is frozen, outside its deploy windows, the release is
 * paused, or the service burns its error budget. Rollbacks never come here.
 *
 * First, decisions that arrived before the boundary (an abort, a pause) take effect, though their
 * sender may still be being checked: otherwise the release went on through its next steps, and
 * could even finish, while an abort's check ran (one activity, slow on a busy worker). An abort's
 * fence is up before the next step, whose start then finds its scope cancelled.
 */
export async function atStepBoundary({ release, errorBudget }: ReleaseContext): Promise<void> {
  if (patched(PATCHES.boundariesAwaitDecisions)) {
    await afterEarlierDecisions(() => undefined);
    if (release.fencedOff) await release.fencedOff;
  }
  for (;;) {
    const gate = laneGate(release.lane.policy, new Date());
    if (!gate.open) {
      release.setHold(gate);
      const seen = release.lane.changes;
      const wakeInMs = gate.reopensAt ? Math.max(1000, Date.parse(gate.reopensAt) - Date.now()) : undefined;
      // A durable timer until the window opens, or until the lane says something changed.
      if (wakeInMs === undefined) await release.waitUntil(() => release.lane.changes !== seen);
      else await release.waitUntil(() => release.lane.changes !== seen, wakeInMs, { summary: `hold: ${gate.reason}` });
      continue;
    }
    const { paused } = release.status;
    if (paused) {
      release.setHold({ open: false, reason: `paused by ${paused.by}: ${paused.reason}` });
      await release.waitUntil(() => !release.status.paused);
      continue;
    }
    if (await errorBudget.holdWhileBurning()) continue;
    if (release.status.hold) release.emit('resume', 'moving on');
    release.setHold(undefined);
    return;
  }
}
