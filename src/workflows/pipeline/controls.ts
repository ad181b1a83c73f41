import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { approvalRefusal, fourEyesApplies, rejectionRefusal, type ApprovalDecision } from '../../domain/approval';
import { FailureType } from '../../domain/failures';
import { required } from '../../domain/required';
import type { Actor } from '../../domain/spec';
import { abortSignal, approveUpdate, rejectUpdate, type ActorMessage, type ApprovalAnswer } from '../api';
import type { DecisionCheck, DecisionKind } from '../../domain/decision';
import { withProvenSender } from '../decision-proof';
import { refuseSender, requireActor } from '../release/approval-decisions';
import { pipelineStatusQuery, supersededSignal } from './api';
import type { PipelineRun } from './state';

/**
 * How people and the head reach a run: its status, the promotion approvals (the release's own
 * approve and reject updates, with the same rules), an abort, and the head's word that a newer
 * commit's run superseded it. Set before the run's first await.
 */
export function listenToPeopleAndHead(run: PipelineRun): void {
  const { refusalToApprove, refusalToReject, decisionCheck } = decisionRules(run);

  setHandler(pipelineStatusQuery, () => run.status);
  setHandler(
    approveUpdate,
    ({ approver: claimed, comment, proof }) =>
      withProvenSender(
        decisionCheck('approve', claimed, proof),
        (approver) => {
          refuseIf(refusalToApprove(approver));
          return recordApproval(run, approver, comment);
        },
        refuseSender,
      ),
    {
      validator: ({ approver }: ApprovalDecision) => {
        requireActor(approver);
        refuseIf(refusalToApprove(approver));
      },
    },
  );
  setHandler(
    rejectUpdate,
    ({ approver: claimed, comment, reason, proof }) =>
      withProvenSender(
        decisionCheck('reject', claimed, proof),
        (approver) => recordRejection(approver, reason ?? comment),
        refuseSender,
      ),
    {
      validator: ({ approver }: ApprovalDecision) => {
        requireActor(approver);
        refuseIf(refusalToReject(approver));
      },
    },
  );
  function recordRejection(approver: Actor, reasonGiven: string | undefined): ApprovalAnswer {
    refuseIf(refusalToReject(approver));
    const pending = required(run.status.pendingApproval, 'the pending approval');
    const why = reasonGiven ?? 'no reason given';
    run.asked.rejection = { actor: approver.id, reason: why };
    run.asked.changes++;
    run.status.decisions.push({
      step: pending.label,
      approver: approver.id,
      decision: 'rejected',
      at: new Date().toISOString(),
    });
    run.emit(`"${pending.label}" rejected by ${approver.name ?? approver.id}: ${why}`, undefined, approver.id);
    return { remaining: 0, message: 'rejected; the run stops before this environment' };
  }
  setHandler(abortSignal, ({ actor: claimed, reason, proof }: ActorMessage) =>
    withProvenSender(
      decisionCheck('abort', claimed, proof),
      (actor) => {
        if (run.asked.abort || run.status.outcome) return;
        run.asked.abort = { actor: actor.id, reason: reason ?? 'no reason given' };
        run.asked.changes++;
        run.emit(`abort asked by ${actor.id}: the run stops before its next environment`, undefined, actor.id);
      },
      (why) => run.emit(`abort by ${claimed.id} refused: ${why}`, undefined, claimed.id),
    ),
  );
  setHandler(supersededSignal, ({ by, pipelineId }) => {
    if (run.asked.supersededBy || run.status.outcome) return;
    run.asked.supersededBy = { sha: by, pipelineId };
    run.asked.changes++;
    run.status.supersededBy = by;
    run.emit(`superseded by commit ${by} (${pipelineId}): stops before its next environment`);
  });
}

function recordApproval(run: PipelineRun, approver: Actor, comment: string | undefined): ApprovalAnswer {
  const pending = required(run.status.pendingApproval, 'the pending approval');
  const at = new Date().toISOString();
  pending.approvals.push({ approver: approver.id, approverName: approver.name, at, comment });
  run.status.decisions.push({ step: pending.label, approver: approver.id, decision: 'approved', at });
  const remaining = Math.max(0, pending.quorum - pending.approvals.length);
  run.emit(
    `"${pending.label}" approved by ${approver.name ?? approver.id}${comment ? `: ${comment}` : ''}`,
    undefined,
    approver.id,
  );
  run.setPendingApproval(pending);
  return {
    remaining,
    message: remaining ? `approved; ${remaining} more approval(s) needed` : 'approved; the run moves on',
  };
}

/** Refuses a decision: the caller gets the reason, and the run is unchanged. */
function refuseIf(refusal: string | undefined): void {
  if (refusal === undefined) return;
  throw ApplicationFailure.nonRetryable(refusal, FailureType.ApprovalRefused);
}

/** The rules a promotion decision meets: who may approve or reject now, and what the worker checks of the sender. */
function decisionRules(run: PipelineRun) {
  const { input } = run;
  const current = () => input.stages[run.status.pendingApproval?.stepIndex ?? 0];
  const refusalToApprove = (approver: Actor) =>
    approvalRefusal({
      pending: run.status.pendingApproval,
      currentStage: run.status.outcome?.outcome ?? `at ${run.status.current ?? 'its start'}`,
      initiator: input.initiator,
      fourEyes: fourEyesApplies(current().spec),
      environment: current().environment,
      approver,
      rejectedBy: run.asked.rejection?.actor,
      lastDecision: run.status.decisions.at(-1),
    });
  const refusalToReject = (approver: Actor) =>
    rejectionRefusal({
      pending: run.status.pendingApproval,
      currentStage: run.status.outcome?.outcome ?? `at ${run.status.current ?? 'its start'}`,
      initiator: input.initiator,
      approver,
      rejectedBy: run.asked.rejection?.actor,
      lastDecision: run.status.decisions.at(-1),
    });

  // A promotion is decided by a proven person, as a release's approval is (docs/security.md).
  const decisionCheck = (kind: DecisionKind, claimed: Actor, proof: string | undefined): DecisionCheck => ({
    kind,
    target: input.pipelineId,
    environment: current().environment,
    production: current().spec.production === true,
    claimed,
    proof,
  });

  return { refusalToApprove, refusalToReject, decisionCheck };
}
