import { CancellationScope, getExternalWorkflowHandle } from '@temporalio/workflow';
import { messageOf } from '../../../domain/failures';
import type { ReleaseResult } from '../../../domain/release';
import { releaseFinishedSignal } from '../../api';
import type { ReleaseContext } from '../context';
import { fenceOff } from '../fencing';
import { TOLLGATE_ACTOR } from '../state';
import { RollbackRequested, stepFailure, StopRelease } from '../stop-reasons';

/** Succeeded: the new version serves all traffic and is the lane's stable version from now on. */
export function succeeded({ input, spec, release }: ReleaseContext): ReleaseResult {
  release.finish('Succeeded', `${spec.version} serves all traffic`);
  return {
    releaseId: input.releaseId,
    outcome: 'Succeeded',
    stableVersion: spec.version,
    ...verificationOf(release),
  };
}

/**
 * The forward path stopped: decides between stopping where it stands (Failed, a person decides)
 * and rolling back, with the cause's actor and reason.
 */
export async function stopped(ctx: ReleaseContext, err: unknown): Promise<ReleaseResult> {
  if (err instanceof RollbackRequested) return rollingBack(ctx, err.reason, err.actor);
  // An abort or a rollback someone asked for is the cause, however the step it cancelled ended
  // (cancelled, killed, or refused by the fence).
  const { rollback } = ctx.release.asked;
  if (rollback) return rollingBack(ctx, rollback.reason, rollback.actor);
  if (err instanceof StopRelease) return failed(ctx, err.reason);
  return rollingBack(ctx, stepFailure(err), TOLLGATE_ACTOR);
}

/** RollingBack: the compensations, newest first, never cancelled; RolledBack, or Failed when one fails for good. */
async function rollingBack(ctx: ReleaseContext, reason: string, actor: string): Promise<ReleaseResult> {
  const { release, saga } = ctx;
  release.enterStage('RollingBack', `${reason}; undoing: ${saga.pending.join(' → ') || 'nothing to undo'}`, actor);
  try {
    // Never cancelled: an abort or a second rollback request must not stop the cleanup. The fence
    // goes up first, so no attempt of a forward step can write after an undo began.
    await CancellationScope.nonCancellable(async () => {
      await fenceOff(ctx);
      await saga.compensate((compensation) => release.emit('compensation', `undone: ${compensation.name}`));
    });
  } catch (err) {
    return failed(ctx, `${reason}; then ${messageOf(err)}. A person must finish the rollback by hand`);
  }
  release.finish('RolledBack', reason);
  return {
    releaseId: ctx.input.releaseId,
    outcome: 'RolledBack',
    reason,
    stableVersion: release.status.stableVersion,
    ...verificationOf(release),
  };
}

function failed({ input, release }: ReleaseContext, reason: string): ReleaseResult {
  release.finish('Failed', reason);
  return {
    releaseId: input.releaseId,
    outcome: 'Failed',
    reason,
    stableVersion: release.status.stableVersion,
    ...verificationOf(release),
  };
}

/** Frees the lane for the next release and, when it Succeeded, makes its version the stable one. */
export async function tellLane({ laneId, spec, input, release }: ReleaseContext, result: ReleaseResult): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    try {
      await getExternalWorkflowHandle(laneId).signal(releaseFinishedSignal, {
        releaseId: input.releaseId,
        version: spec.version,
        outcome: result.outcome,
      });
    } catch (err) {
      release.emit('error', `could not tell the lane that the release ended: ${messageOf(err)}`);
    }
  });
}

/** The smoke checks' findings travel with the result (a pipeline's gate reads them); absent when none ran. */
function verificationOf(release: ReleaseContext['release']): Pick<ReleaseResult, 'verification'> {
  return release.status.verification ? { verification: release.status.verification } : {};
}
