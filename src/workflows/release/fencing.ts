import { CancellationScope } from '@temporalio/workflow';
import { bookkeeping } from './activity-proxies';
import type { ReleaseContext } from './context';

/**
 * Fences off the release's forward steps: once the rollback's token is the lane's newest, an
 * attempt of a forward step that starts or writes later (a retry, a command a dead worker left
 * running, a paused worker that wakes up) is refused. Called as soon as a rollback is asked (the
 * running step is cancelled once the fence is up), and again (the same promise) before the first
 * compensation runs. Nothing for releases that started before fencing.
 */
export function fenceOff({ release }: ReleaseContext): Promise<void> {
  const fence = release.rollbackFence();
  if (!fence) return Promise.resolve();
  release.fencedOff ??= CancellationScope.nonCancellable(() =>
    bookkeeping.raiseFence.executeWithOptions({ summary: `fence off ${fence.laneId} at ${fence.token}` }, [fence]),
  );
  return release.fencedOff;
}
