import { fourEyesApplies } from '../../domain/approval';
import { required } from '../../domain/required';
import type { Actor } from '../../domain/spec';
import type { ApprovalAnswer } from '../api';
import { listenToApprovers, type DecisionTarget } from '../approval-handlers';
import { noteApproval, noteRejection } from '../decision-records';
import type { ReleaseContext } from './context';
import type { ReleaseState } from './state';

/** A release's approval steps, decided by approve and reject (the rules: ../approval-handlers.ts). */
export function listenToReleaseApprovers(ctx: ReleaseContext): void {
  const { input, spec, release } = ctx;
  const fourEyes = fourEyesApplies(spec);
  listenToApprovers({
    situation: () => ({
      ...releaseTarget(ctx),
      pending: release.status.pendingApproval,
      currentStage: release.stage,
      initiator: input.initiator,
      fourEyes,
      rejectedBy: release.asked.rejection?.actor,
      lastDecision: release.status.decisions.at(-1),
    }),
    recordApproval: (approver, comment) => recordApproval(release, approver, comment),
    recordRejection: (approver, why) => recordRejection(release, approver, why),
  });
}

/** Decisions on a release are checked against its id and its environment. */
export function releaseTarget({ input, spec }: Pick<ReleaseContext, 'input' | 'spec'>): DecisionTarget {
  return { target: input.releaseId, environment: spec.environment, production: spec.production === true };
}

function recordApproval(release: ReleaseState, approver: Actor, comment: string | undefined): ApprovalAnswer {
  const pending = required(release.status.pendingApproval, 'the pending approval');
  const remaining = noteApproval(pending, release.status.decisions, approver, comment);
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
  noteRejection(pending, release.status.decisions, approver);
  release.emit('rejection', `rejected by ${approver.name ?? approver.id}: ${why}`, approver.id, {
    step: pending.label,
    comment: why,
    ...provenance(approver),
  });
  return { remaining: 0, message: 'rejected; the release rolls back' };
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
