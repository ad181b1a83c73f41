import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Fence } from '../domain/fence';
import { FailureType } from '../domain/failures';
import type { ReleaseFacts } from '../domain/release-facts';
import { type ProviderContext, ProviderError } from '../providers/context';
import type { FencedWriter } from '../fencing/lane-fences';
import { statusQuery } from '../workflows/api';
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
  /**
   * The call makes every change through `ctx.fenced`, whose write refuses a stale attempt before
   * it writes: the fence is then not read once more before the call (one database round trip
   * less on every step; bench:orchestration).
   */
  writesUnderFence?: boolean;
}

/**
 * Runs a provider call inside an activity: heartbeats while it runs, once a second (so a dead
 * worker is noticed within the heartbeat timeout), hands it the activity's cancellation, logs with the release id,
 * and turns a ProviderError into a Temporal failure that says whether retrying can help.
 *
 * Before a retry or an undo, it stops what earlier attempts started on this host and may still
 * run; on a fenced step, an attempt that a rollback or a newer attempt has overtaken is refused
 * before it changes anything: before the call starts, or, for a call that makes every change
 * under the fence (`writesUnderFence`), by the fenced write itself.
 */
export async function callProvider<T>(
  deps: ActivityDeps,
  facts: ReleaseFacts,
  stepId: string,
  call: (ctx: ProviderContext) => Promise<T>,
  options: ProviderCallOptions = {},
): Promise<T> {
  const activity = Context.current();
  // No beat at the start: the heartbeat timeout already counts from the start, and a beat is a
  // round trip to the history service that races the step's own completion (bench:orchestration).
  // A call that lasts beats every second, which is also how it hears of a cancellation.
  const heartbeat = setInterval(() => activity.heartbeat(options.heartbeatDetails?.()), HEARTBEAT_EVERY_MS);
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
    if (fence && attempt > 1 && !options.compensating) await refuseIfRollingBack(deps, fence, writer);
    if (fence && !options.writesUnderFence) await deps.fences.check(fence, writer);
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

/**
 * A retry of a forward step whose release was asked to roll back does not run, even before the
 * rollback's fence is up (Temporal may hand out the retry before any worker has read the abort).
 * The release answers from its state with every signal it has received applied.
 */
async function refuseIfRollingBack(deps: ActivityDeps, fence: Fence, writer: FencedWriter): Promise<void> {
  let asked: { actor: string; reason: string } | undefined;
  try {
    asked = (await deps.temporal.workflow.getHandle(writer.releaseId).query(statusQuery)).rollbackAsked;
  } catch {
    return; // the release cannot be asked now: the fence still stands between this attempt and the world
  }
  if (asked) throw await deps.fences.refuseRolledBack(fence, writer, `the release is rolling back (${asked.reason})`);
}
