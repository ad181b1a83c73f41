import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ReleaseFacts } from '../domain/release-facts';
import { type ProviderContext, ProviderError } from '../providers/context';
import type { ActivityDeps } from './deps';

/** Often enough for any heartbeat timeout a spec may reasonably set (its floor is a few seconds). */
export const HEARTBEAT_EVERY_MS = 1000;

export interface ProviderCallOptions {
  /** Compensations never give up on their own: a person can fix the cause and the retry succeeds. */
  compensating?: boolean;
  /** What to heartbeat, for activities that resume from heartbeat details. */
  heartbeatDetails?: () => unknown;
}

/**
 * Runs a provider call inside an activity: heartbeats while it runs (so a dead worker is noticed
 * within the heartbeat timeout), hands it the activity's cancellation, logs with the release id,
 * and turns a ProviderError into a Temporal failure that says whether retrying can help.
 */
export async function callProvider<T>(
  deps: ActivityDeps,
  facts: ReleaseFacts,
  stepId: string,
  call: (ctx: ProviderContext) => Promise<T>,
  options: ProviderCallOptions = {},
): Promise<T> {
  const activity = Context.current();
  const beat = () => activity.heartbeat(options.heartbeatDetails?.());
  beat();
  const heartbeat = setInterval(beat, HEARTBEAT_EVERY_MS);
  const ctx: ProviderContext = {
    facts,
    stepId,
    signal: activity.cancellationSignal,
    log: deps.log.child({ releaseId: facts.releaseId, stepId, attempt: activity.info.attempt }),
  };
  try {
    return await call(ctx);
  } catch (err) {
    if (err instanceof ProviderError) {
      throw ApplicationFailure.create({
        type: err.type,
        message: err.message,
        nonRetryable: !err.retryable && !options.compensating,
      });
    }
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
}
