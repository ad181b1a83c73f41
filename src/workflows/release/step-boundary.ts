import { laneGate } from '../../domain/lane-policy';
import type { ReleaseContext } from './context';

/**
 * Holds between two steps while the lane is frozen, outside its deploy windows, the release is
 * paused, or the service burns its error budget. Rollbacks never come here.
 */
export async function atStepBoundary({ release, errorBudget }: ReleaseContext): Promise<void> {
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
