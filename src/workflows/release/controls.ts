import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { actorProblem } from '../../domain/actor';
import { FailureType } from '../../domain/failures';
import type { Actor } from '../../domain/spec';
import { canRollBack, isEndStage } from '../../domain/stages';
import {
  abortSignal,
  extendAnalysisSignal,
  inputQuery,
  laneGrantedSignal,
  laneUpdateSignal,
  pauseSignal,
  promoteSignal,
  resumeSignal,
  rollbackUpdate,
  statusQuery,
} from '../api';
import { listenToApprovers, requireActor } from './approval-decisions';
import type { ReleaseContext } from './context';
import { fenceOff } from './fencing';

/**
 * How people and the lane talk to a running release: queries, signals and updates. Handlers only
 * record what was asked in the release's state (and cancel the forward path for a rollback); the
 * stages decide what to do with it at their next step. Set before the release's first await.
 */
export function listenToPeopleAndLane(ctx: ReleaseContext): void {
  listenToLane(ctx);
  listenToPeople(ctx);
  listenToApprovers(ctx);
}

/** Rolls the release back: the running step is cancelled and the compensations run. */
export function requestRollback(ctx: ReleaseContext, actor: string, reason: string): void {
  ctx.release.asked.rollback ??= { actor, reason };
  // Fenced off before the running step is cancelled: its retries and leftovers write nothing now.
  void fenceOff(ctx);
  ctx.forwardScope.cancel();
}

/** Why the release cannot roll back now, or undefined when it can. */
export function rollbackRefusal({ release }: ReleaseContext): string | undefined {
  const { contractedAt } = release.status;
  if (contractedAt)
    return `schema contracted at ${contractedAt}; the old version cannot run on it any more, so fix forward with a new release`;
  if (isEndStage(release.stage)) return `the release already ended ${release.stage}`;
  if (release.stage === 'RollingBack') return 'the release is already rolling back';
  if (!canRollBack(release.stage)) return `a release cannot roll back from ${release.stage}`;
  return undefined;
}

function listenToLane({ input, release }: ReleaseContext): void {
  setHandler(statusQuery, () => ({ ...release.status, lanePolicy: release.lane.policy }));
  setHandler(inputQuery, () => input);
  setHandler(laneGrantedSignal, ({ stableVersion, policy }) => {
    release.lane.granted = true;
    release.setStableVersion(stableVersion);
    release.lane.policy = policy;
    release.lane.changes++;
  });
  setHandler(laneUpdateSignal, (update) => {
    release.lane.policy = update.policy;
    release.lane.waitingFor = update.waitingFor;
    release.lane.changes++;
  });
}

function listenToPeople(ctx: ReleaseContext): void {
  const { release } = ctx;
  setHandler(pauseSignal, (message) => {
    const actor = actorId(message);
    if (release.status.paused || isEndStage(release.stage)) return;
    release.status.paused = { by: actor, at: new Date().toISOString(), reason: message?.reason ?? 'paused by hand' };
    release.emit(
      'pause',
      `paused by ${actor}${message?.reason ? `: ${message.reason}` : ''}; holds at the next step`,
      actor,
    );
  });
  setHandler(resumeSignal, (message) => {
    if (!release.status.paused) return;
    release.status.paused = undefined;
    release.emit('resume', `resumed by ${actorId(message)}`, actorId(message));
  });
  setHandler(promoteSignal, (message) => {
    const actor = actorId(message);
    release.asked.promotions++;
    release.asked.fullPromotion ||= Boolean(message?.full);
    release.status.paused = undefined;
    release.emit('promote', `${message?.full ? 'fully promoted' : 'promoted'} by ${actor}`, actor);
  });
  setHandler(extendAnalysisSignal, (message) => {
    release.asked.extensions++;
    release.emit('promote', `analysis extended by ${actorId(message)}: measuring again`, actorId(message));
  });
  setHandler(abortSignal, (message) => {
    const actor = actorId(message);
    const refusal = rollbackRefusal(ctx);
    if (refusal) {
      release.emit('abort', `abort by ${actor} ignored: ${refusal}`, actor);
      return;
    }
    const why = `aborted by ${actor}${message?.reason ? `: ${message.reason}` : ''}`;
    release.emit('abort', why, actor);
    requestRollback(ctx, actor, why);
  });
  setHandler(
    rollbackUpdate,
    ({ actor, reason }) => {
      release.emit('abort', `rollback asked by ${actor.id}${reason ? `: ${reason}` : ''}`, actor.id);
      requestRollback(ctx, actor.id, `rolled back by ${actor.id}${reason ? `: ${reason}` : ''}`);
      return { message: `rolling back ${ctx.input.releaseId}` };
    },
    {
      validator: ({ actor }) => {
        requireActor(actor);
        const refusal = rollbackRefusal(ctx);
        if (refusal) throw ApplicationFailure.nonRetryable(`rollback refused: ${refusal}`, FailureType.RollbackRefused);
      },
    },
  );
}

/**
 * Who sent a signal. Signals cannot be refused, and a handler that throws would wedge the
 * workflow, so a malformed sender is recorded as "unknown" rather than trusted or rejected.
 */
function actorId(message: { actor?: unknown } | undefined): string {
  const actor = message?.actor;
  return actorProblem(actor) ? 'unknown' : (actor as Actor).id;
}
