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
import type { DecisionKind } from '../../domain/decision';
import type { ReleaseEventKind } from '../../domain/events';
import { withProvenSender } from '../decision-proof';
import { decisionCheck, refuseSender, requireActor } from '../approval-handlers';
import { listenToReleaseApprovers, provenance, releaseTarget } from './approval-decisions';
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
  listenToReleaseApprovers(ctx);
}

/** Rolls the release back: the running step is cancelled and the compensations run. */
export function requestRollback(ctx: ReleaseContext, actor: string, reason: string): void {
  ctx.release.asked.rollback ??= { actor, reason };
  // The fence goes up before the running step is cancelled: from then on, its retries and
  // leftovers write nothing. Releases started before fencing cancel it at once, as they did.
  if (ctx.release.fenceEpoch === undefined) ctx.forwardScope.cancel();
  else void fenceOff(ctx).then(() => ctx.forwardScope.cancel());
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
  setHandler(statusQuery, () => ({
    ...release.status,
    lanePolicy: release.lane.policy,
    rollbackAsked: release.asked.rollback,
  }));
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
  setHandler(pauseSignal, (message) =>
    fromProvenSender(ctx, 'pause', 'pause', message, (actor) => {
      if (release.status.paused || isEndStage(release.stage)) return;
      release.status.paused = {
        by: actor.id,
        at: new Date().toISOString(),
        reason: message?.reason ?? 'paused by hand',
      };
      release.emit(
        'pause',
        `paused by ${actor.id}${message?.reason ? `: ${message.reason}` : ''}; holds at the next step`,
        actor.id,
        provenance(actor),
      );
    }),
  );
  setHandler(resumeSignal, (message) =>
    fromProvenSender(ctx, 'resume', 'resume', message, (actor) => {
      if (!release.status.paused) return;
      release.status.paused = undefined;
      release.emit('resume', `resumed by ${actor.id}`, actor.id, provenance(actor));
    }),
  );
  setHandler(promoteSignal, (message) =>
    fromProvenSender(ctx, 'promote', 'promote', message, (actor) => {
      release.asked.promotions++;
      release.asked.fullPromotion ||= Boolean(message?.full);
      release.status.paused = undefined;
      release.emit(
        'promote',
        `${message?.full ? 'fully promoted' : 'promoted'} by ${actor.id}`,
        actor.id,
        provenance(actor),
      );
    }),
  );
  setHandler(extendAnalysisSignal, (message) =>
    fromProvenSender(ctx, 'extendAnalysis', 'promote', message, (actor) => {
      release.asked.extensions++;
      release.emit('promote', `analysis extended by ${actor.id}: measuring again`, actor.id, provenance(actor));
    }),
  );
  setHandler(abortSignal, (message) =>
    fromProvenSender(ctx, 'abort', 'abort', message, (actor) => {
      const refusal = rollbackRefusal(ctx);
      if (refusal) {
        release.emit('abort', `abort by ${actor.id} ignored: ${refusal}`, actor.id);
        return;
      }
      const why = `aborted by ${actor.id}${message?.reason ? `: ${message.reason}` : ''}`;
      release.emit('abort', why, actor.id, provenance(actor));
      requestRollback(ctx, actor.id, why);
    }),
  );
  listenForRollback(ctx);
}

/** A rollback is an update: the person hears at once whether it was accepted. */
function listenForRollback(ctx: ReleaseContext): void {
  const { release } = ctx;
  setHandler(
    rollbackUpdate,
    ({ actor: claimed, reason, proof }) =>
      withProvenSender(
        decisionCheck(releaseTarget(ctx), 'rollback', claimed, proof),
        (actor) => {
          // Checked again: the release may have moved on while the proof was checked.
          const refusal = rollbackRefusal(ctx);
          if (refusal)
            throw ApplicationFailure.nonRetryable(`rollback refused: ${refusal}`, FailureType.RollbackRefused);
          release.emit(
            'abort',
            `rollback asked by ${actor.id}${reason ? `: ${reason}` : ''}`,
            actor.id,
            provenance(actor),
          );
          requestRollback(ctx, actor.id, `rolled back by ${actor.id}${reason ? `: ${reason}` : ''}`);
          return { message: `rolling back ${ctx.input.releaseId}` };
        },
        refuseSender,
      ),
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
 * Signals cannot be refused to their sender, so a decision whose proof does not hold is recorded
 * in the release's events with the reason, and changes nothing.
 */
function fromProvenSender(
  ctx: ReleaseContext,
  kind: DecisionKind,
  eventKind: ReleaseEventKind,
  message: { actor?: unknown; proof?: string } | undefined,
  act: (actor: Actor) => void,
): void | Promise<void> {
  const claimed: Actor = { id: actorId(message), via: sentVia(message) };
  return withProvenSender(decisionCheck(releaseTarget(ctx), kind, claimed, message?.proof), act, (reason) =>
    ctx.release.emit(eventKind, `${kind} by ${claimed.id} refused: ${reason}`, claimed.id),
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

/** The channel a signal claims to come through (the proof, when checked, says for sure). */
function sentVia(message: { actor?: unknown } | undefined): Actor['via'] {
  const actor = message?.actor;
  return actorProblem(actor) ? 'cli' : ((actor as Actor).via ?? 'cli');
}
