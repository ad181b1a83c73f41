import type { Actor, ApprovalStep, ReleaseSpec } from './spec';

export interface ApprovalGiven {
  approver: string;
  approverName?: string;
  at: string;
  comment?: string;
}

/** An approval step that is waiting for people. */
export interface PendingApproval {
  stepIndex: number;
  label: string;
  from: string[];
  quorum: number;
  approvals: ApprovalGiven[];
  /** ISO time after which `approvals.onTimeout` applies. */
  deadline: string;
}

export interface ApprovalDecision {
  approver: Actor;
  comment?: string;
}

/** Is this person among the step's approvers? Entries are user ids (optionally `user:`) or `group:<handle>`. */
export function isListedApprover(approver: Actor, step: Pick<ApprovalStep, 'from'>): boolean {
  const groups = new Set(approver.groups ?? []);
  return step.from.some((entry) => {
    if (entry.startsWith('group:')) return groups.has(entry.slice('group:'.length));
    return (entry.startsWith('user:') ? entry.slice('user:'.length) : entry) === approver.id;
  });
}

/**
 * Why an approval must be refused, or undefined when it may be accepted.
 * Called by the workflow's update validator, so the approver gets the answer at once and the
 * release is unchanged by a refusal.
 */
export function approvalRefusal(args: {
  pending: PendingApproval | undefined;
  currentStage: string;
  initiator: Actor;
  fourEyes: boolean;
  environment: string;
  approver: Actor;
  /** A rejection already recorded: one decision per step, so nothing can approve after it. */
  rejectedBy?: string;
}): string | undefined {
  const { pending, approver } = args;
  if (args.rejectedBy) return `already rejected by ${args.rejectedBy}; the release rolls back`;
  if (!pending) return `nothing awaits approval: the release is ${args.currentStage}`;
  if (!isListedApprover(approver, pending)) {
    return `${approver.id} is not an approver for "${pending.label}"; approvers are ${pending.from.join(', ')}`;
  }
  if (args.fourEyes && approver.id === args.initiator.id) {
    return `four-eyes: ${approver.id} started this ${args.environment} release and cannot approve it; ask another of ${pending.from.join(', ')}`;
  }
  if (pending.approvals.length >= pending.quorum) {
    return `"${pending.label}" is already approved by ${pending.approvals.map((given) => given.approver).join(', ')}; the release is moving on`;
  }
  if (pending.approvals.some((given) => given.approver === approver.id)) {
    const missing = pending.quorum - pending.approvals.length;
    return `${approver.id} has already approved; ${missing} more approval${missing === 1 ? '' : 's'} needed from someone else`;
  }
  return undefined;
}

/** Anyone who may approve may reject; so may the initiator, who can always call off their own release. */
export function rejectionRefusal(args: {
  pending: PendingApproval | undefined;
  currentStage: string;
  initiator: Actor;
  approver: Actor;
  /** A rejection already recorded. */
  rejectedBy?: string;
}): string | undefined {
  const { pending } = args;
  if (args.rejectedBy) return `already rejected by ${args.rejectedBy}; the release rolls back`;
  if (!pending) return `nothing awaits approval: the release is ${args.currentStage}`;
  // One decision per step: once the quorum is met, the step is decided and the release moves on.
  if (pending.approvals.length >= pending.quorum) {
    return `"${pending.label}" is already approved by ${pending.approvals.map((given) => given.approver).join(', ')}; the release is moving on (abort it to roll back)`;
  }
  if (args.approver.id === args.initiator.id || isListedApprover(args.approver, pending)) return undefined;
  return `${args.approver.id} may not reject "${pending.label}"; approvers are ${pending.from.join(', ')}`;
}

/** Four-eyes is on unless the spec says otherwise for environments whose name starts with "prod". */
export function fourEyesApplies(spec: Pick<ReleaseSpec, 'environment' | 'approvals'>): boolean {
  return spec.approvals.fourEyes ?? /^prod/.test(spec.environment);
}
