import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { actorProblem } from '../../domain/actor';
import { approvalRefusal, fourEyesApplies, rejectionRefusal, type ApprovalDecision } from '../../domain/approval';
import { FailureType } from '../../domain/failures';
import { required } from '../../domain/required';
import type { Actor } from '../../domain/spec';
import type { DecisionCheck, DecisionKind } from '../../domain/decision';
import { approveUpdate, rejectUpdate, type ApprovalAnswer } from '../api';
import { withProvenSender } from '../decision-proof';
import type { ReleaseContext } from './context';
import type { ReleaseState } from './state';

/**
 * Approve and reject decide one approval step, once: validators and handlers apply the same rules
 * to the same state, and the handler checks again, because updates that arrive together (say,
 * while no worker runs) are validated before any of them is handled. Once a rejection is recorded
 * nothing can approve; once the quorum is met nothing can reject. The loser gets the reason.
 */
export function listenToApprovers({ input, spec, release }: ReleaseContext): void {
  const fourEyes = fourEyesApplies(spec);
  const refusalToApprove = (approver: Actor) =>
    approvalRefusal({
      pending: release.status.pendingApproval,
      currentStage: release.stage,
      initiator: input.initiator,
      fourEyes,
      environment: spec.environment,
      approver,
      rejectedBy: release.asked.rejection?.actor,
      lastDecision: release.status.decisions.at(-1),
    });
  const refusalToReject = (approver: Actor) =>
    rejectionRefusal({
      pending: release.status.pendingApproval,
      currentStage: release.stage,
      initiator: input.initiator,
      approver,
      rejectedBy: release.asked.rejection?.actor,
      lastDecision: release.status.decisions.at(-1),
    });
  setHandler(
    approveUpdate,
    ({ approver: claimed, comment, proof }) =>
      withProvenSender(
        decisionCheck({ input, spec }, 'approve', claimed, proof),
        (approver) => {
          refuseIf(refusalToApprove(approver));
          return recordApproval(release, approver, comment);
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
        decisionCheck({ input, spec }, 'reject', claimed, proof),
        (approver) => {
          refuseIf(refusalToReject(approver));
          return recordRejection(release, approver, reason ?? comment ?? 'no reason given');
        },
        refuseSender,
      ),
    {
      validator: ({ approver }: ApprovalDecision) => {
        requireActor(approver);
        refuseIf(refusalToReject(approver));
      },
    },
  );
}

function recordApproval(release: ReleaseState, approver: Actor, comment: string | undefined): ApprovalAnswer {
  const pending = required(release.status.pendingApproval, 'the pending approval');
  const at = new Date().toISOString();
  const { via, trust } = approver;
  pending.approvals.push({ approver: approver.id, approverName: approver.name, at, comment, via, trust });
  release.status.decisions.push({ step: pending.label, approver: approver.id, decision: 'approved', at, via, trust });
  const remaining = Math.max(0, pending.quorum - pending.approvals.length);
  release.emit('approval', `approved by ${approver.name ?? approver.id}${comment ? `: ${comment}` : ''}`, approver.id, {
    step: pending.label,
    ...(comment ? { comment } : {}),
    ...provenance(approver),
  });
  release.setPendingApproval(pending);
  return {
    remaining,
    message: remaining ? `approved; ${remaining} more approval(s) needed` : 'approved; the release moves on',
  };
}

function recordRejection(release: ReleaseState, approver: Actor, why: string): ApprovalAnswer {
  const pending = required(release.status.pendingApproval, 'the pending approval');
  release.asked.rejection = { actor: approver.id, reason: why };
  release.status.decisions.push({
    step: pending.label,
    approver: approver.id,
    decision: 'rejected',
    at: new Date().toISOString(),
    via: approver.via,
    trust: approver.trust,
  });
  release.emit('rejection', `rejected by ${approver.name ?? approver.id}: ${why}`, approver.id, {
    step: pending.label,
    comment: why,
    ...provenance(approver),
  });
  return { remaining: 0, message: 'rejected; the release rolls back' };
}

/** What the worker checks about a decision on this release: who claims to send it, with which proof. */
export function decisionCheck(
  { input, spec }: Pick<ReleaseContext, 'input' | 'spec'>,
  kind: DecisionKind,
  claimed: Actor,
  proof: string | undefined,
): DecisionCheck {
  return {
    kind,
    target: input.releaseId,
    environment: spec.environment,
    production: spec.production === true,
    claimed,
    proof,
  };
}

/** Refuses a decision whose proof of who sent it does not hold; the release is unchanged. */
export function refuseSender(reason: string): never {
  throw ApplicationFailure.nonRetryable(`who is asking? ${reason}`, FailureType.InvalidActor);
}

/** What a decision's record says of who made it: the channel, and whether the identity was verified. */
export function provenance(actor: Actor): { [key: string]: string } {
  return Object.fromEntries(
    Object.entries({
      via: actor.via,
      trust: actor.trust,
      issuer: actor.issuer,
      subject: actor.subject,
    }).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** Refuses a decision: the caller gets the reason, and the release is unchanged. */
function refuseIf(refusal: string | undefined): void {
  if (refusal === undefined) return;
  const type = refusal.startsWith('actor') ? FailureType.InvalidActor : FailureType.ApprovalRefused;
  throw ApplicationFailure.nonRetryable(
    type === FailureType.InvalidActor ? `who is asking? ${refusal}` : refusal,
    type,
  );
}

/** Refuses a message whose sender is missing or malformed. */
export function requireActor(actor: unknown): void {
  const problem = actorProblem(actor);
  if (problem) throw ApplicationFailure.nonRetryable(`who is asking? ${problem}`, FailureType.InvalidActor);
}
