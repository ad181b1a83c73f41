import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { actorProblem } from '../domain/actor';
import { approvalRefusal, rejectionRefusal, type ApprovalDecision, type PendingApproval } from '../domain/approval';
import type { DecisionRecord } from '../domain/approval';
import type { DecisionCheck, DecisionKind } from '../domain/decision';
import { FailureType } from '../domain/failures';
import type { Actor } from '../domain/spec';
import { approveUpdate, rejectUpdate, type ApprovalAnswer } from './api';
import { withProvenSender } from './decision-proof';

/** Where a decision lands: the workflow (a release or a pipeline run) and the environment it is about. */
export interface DecisionTarget {
  /** The workflow's id; the app's assertions are bound to it. */
  target: string;
  environment: string;
  /** The spec marks the environment as production: local mode's identities on trust are refused. */
  production: boolean;
}

/** What approve and reject are judged on, as it stands when the decision is taken. */
export interface ApprovalSituation extends DecisionTarget {
  pending: PendingApproval | undefined;
  /** Where the workflow is, for a decision that comes too late ("the release is Shifting"). */
  currentStage: string;
  initiator: Actor;
  fourEyes: boolean;
  rejectedBy?: string;
  lastDecision?: DecisionRecord;
}

/** A workflow with approval steps: a release, or a pipeline run's promotion gates. */
export interface ApprovalSubject {
  situation(): ApprovalSituation;
  recordApproval(approver: Actor, comment: string | undefined): ApprovalAnswer;
  recordRejection(approver: Actor, why: string): ApprovalAnswer;
}

/**
 * Approve and reject decide one approval step, once: validators and handlers apply the same rules
 * to the same state, and the handler checks again, because updates that arrive together (say,
 * while no worker runs) are validated before any of them is handled, and the sender's proof is
 * checked in between. Once a rejection is recorded nothing can approve; once the quorum is met
 * nothing can reject. The loser gets the reason.
 */
export function listenToApprovers(subject: ApprovalSubject): void {
  const refusalToApprove = (approver: Actor) => approvalRefusal({ ...subject.situation(), approver });
  const refusalToReject = (approver: Actor) => rejectionRefusal({ ...subject.situation(), approver });
  setHandler(
    approveUpdate,
    ({ approver: claimed, comment, proof }) =>
      withProvenSender(
        decisionCheck(subject.situation(), 'approve', claimed, proof),
        (approver) => {
          refuseIf(refusalToApprove(approver));
          return subject.recordApproval(approver, comment);
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
        decisionCheck(subject.situation(), 'reject', claimed, proof),
        (approver) => {
          refuseIf(refusalToReject(approver));
          return subject.recordRejection(approver, reason ?? comment ?? 'no reason given');
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

/** What the worker checks about a decision: who claims to send it, with which proof, to which workflow. */
export function decisionCheck(
  { target, environment, production }: DecisionTarget,
  kind: DecisionKind,
  claimed: Actor,
  proof: string | undefined,
): DecisionCheck {
  return { kind, target, environment, production, claimed, proof };
}

/** Refuses a decision whose proof of who sent it does not hold; the workflow is unchanged. */
export function refuseSender(reason: string): never {
  throw ApplicationFailure.nonRetryable(`who is asking? ${reason}`, FailureType.InvalidActor);
}

/** Refuses a message whose sender is missing or malformed. */
export function requireActor(actor: unknown): void {
  const problem = actorProblem(actor);
  if (problem) throw ApplicationFailure.nonRetryable(`who is asking? ${problem}`, FailureType.InvalidActor);
}

/** Refuses a decision: the caller gets the reason, and the workflow is unchanged. */
function refuseIf(refusal: string | undefined): void {
  if (refusal === undefined) return;
  const type = refusal.startsWith('actor') ? FailureType.InvalidActor : FailureType.ApprovalRefused;
  throw ApplicationFailure.nonRetryable(
    type === FailureType.InvalidActor ? `who is asking? ${refusal}` : refusal,
    type,
  );
}
