import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Fence } from '../domain/fence';
import { FailureType } from '../domain/failures';
import type { ReleaseFacts } from '../domain/release-facts';
import { type ProviderContext, ProviderError } from '../providers/context';
import type { ActivityDeps } from './deps';

/** Often enough for any heartbeat timeout a spec may reasonably set (its floor is a few seconds). */
export const HEARTBEAT_EVERY_MS = 1000;

/**
 * Failures that a compensation gives up on at once, like a forward step: retrying for as long as
 * the rollback may take cannot fix them, and the person who must finish by hand should hear now.
 */
const NEVER_FIXED_BY_RETRYING: ReadonlySet<string> = new Set([
  FailureType.MissingSecret,
  FailureType.CommandNotFound,
  FailureType.StaleWriteRefused,
]);

export interface ProviderCallOptions {
  /** Compensations retry until the rollback times out, unless retrying cannot help at all. */
  compensating?: boolean;
  /** What to heartbeat, for activities that resume from heartbeat details. */
  heartbeatDetails?: () => unknown;
  /** The lane's fencing token for a step that changes the world (src/domain/fence.ts). */
  fence?: Fence;
  /** Who writes under the fence, for the record of a refusal: "haproxy", "exec", ... */
  writer?: string;
}

/**
 * Runs a provider call inside an activity: heartbeats while it runs (so a dead worker is noticed
 * within the heartbeat timeout), hands it the activity's cancellation, logs with the release id,
 * and turns a ProviderError into a Temporal failure that says whether retrying can help.
 *
 * Before a retry or an undo, it stops what earlier attempts started on this host and may still
 * run; on a fenced step, an attempt that a rollback or a newer attempt has overtaken is refused
 * before it starts, and routers write under the fence.
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
  const { attempt } = activity.info;
  const owner = { releaseId: facts.releaseId, stepId, attempt, compensating: Boolean(options.compensating) };
  const log = deps.log.child({ releaseId: facts.releaseId, stepId, attempt });
  const { fence } = options;
  const writer = { ...owner, writer: options.writer ?? 'provider' };
  try {
    if (attempt > 1 || options.compensating) {
      const stopped = await deps.commands.stopEarlier(owner);
      if (stopped.length) log.warn({ stopped }, 'stopped commands an earlier attempt left running');
    }
    if (fence) await deps.fences.check(fence, writer);
    const ctx: ProviderContext = {
      facts,
      stepId,
      signal: activity.cancellationSignal,
      log,
      fence,
      fenced: fence ? (write) => deps.fences.write(fence, writer, write) : undefined,
      trackCommand: (pid, label) => deps.commands.track(owner, pid, label),
    };
    return await call(ctx);
  } catch (err) {
    if (err instanceof ProviderError) {
      const giveUp = !err.retryable && (!options.compensating || NEVER_FIXED_BY_RETRYING.has(err.type));
      if (err.type === FailureType.StaleWriteRefused) log.warn({ err: err.message }, 'stale attempt refused');
      throw ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: giveUp });
    }
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
}
