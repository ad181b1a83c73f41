import { CancellationScope } from '@temporalio/workflow';
import { local } from './activity-proxies';
import type { ReleaseContext } from './context';

/**
 * Fences off the release's forward steps: once the rollback's token is the lane's newest, an
 * attempt of a forward step that starts or writes later (a retry, a command a dead worker left
 * running, a paused worker that wakes up) is refused. Called as soon as a rollback is asked, and
 * again (the same promise) before the first compensation runs. Nothing for releases that started
 * before fencing.
 */
export function fenceOff({ release }: ReleaseContext): Promise<void> {
  const fence = release.rollbackFence();
  if (!fence) return Promise.resolve();
  release.fencedOff ??= CancellationScope.nonCancellable(() => local.raiseFence(fence));
  return release.fencedOff;
}
