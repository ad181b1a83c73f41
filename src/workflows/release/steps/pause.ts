import { formatMillis } from '../../../domain/duration';
import type { ReleaseContext } from '../context';

/** pause: waits for its duration, or until someone promotes; without a duration, only a promotion ends it. */
export async function pause({ release }: ReleaseContext, durationMs: number | undefined): Promise<void> {
  const seen = release.asked.promotions;
  const promoted = () => release.asked.promotions !== seen;
  if (durationMs === undefined) {
    release.setHold({ open: false, reason: 'paused until someone promotes' });
    await release.waitUntil(promoted);
  } else {
    await release.waitUntil(promoted, durationMs, { summary: `pause ${formatMillis(durationMs)}` });
  }
  release.setHold(undefined);
}
