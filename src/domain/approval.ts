import type { Actor, ApprovalStep, ReleaseSpec } from './spec';

/** How a decision's sender was known: the channel, and whether a proof verified them (`none`: local mode). */
export type Provenance = Partial<Pick<Actor, 'via' | 'trust'>>;

export interface ApprovalGiven extends Provenance {
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
  /** Proof of who the approver is (src/domain/decision.ts); checked by the worker, never kept in the release's state. */
  proof?: string;
}

/** One decision on an approval step, as the release keeps it. */
export interface DecisionRecord extends Provenance {
  step: string;
  approver: string;
  decision: 'approved' | 'rejected';
  at: string;
}

function nothingAwaits(stage: string, last: DecisionRecord | undefined): string {
  const decided = last ? `; "${last.step}" was ${last.decision} by ${last.approver}` : '';
  return `nothing awaits approval: the release is ${stage}${decided}`;
}

/** Every id a person is known by: the canonical one (an email), then aliases such as a Slack user id. */
function idsOf(actor: Pick<Actor, 'id' | 'aliases'>): string[] {
  return [actor.id, ...(actor.aliases ?? [])].map((id) => id.toLowerCase());
}

/** Are these the same person, whichever channel each came through? */
export function samePerson(a: Pick<Actor, 'id' | 'aliases'>, b: Pick<Actor, 'id' | 'aliases'>): boolean {
  const ids = new Set(idsOf(a));
  return idsOf(b).some((id) => ids.has(id));
}

/**
 * Is this person among the step's approvers? Entries are emails or other ids (optionally `user:`),
 * Slack user ids (matched through the person's aliases), or `group:<handle>`.
 */
export function isListedApprover(approver: Actor, step: Pick<ApprovalStep, 'from'>): boolean {
  const groups = new Set(approver.groups ?? []);
  const ids = new Set(idsOf(approver));
  return step.from.some((entry) => {
    if (entry.startsWith('group:')) return groups.has(entry.slice('group:'.length));
    return ids.has((entry.startsWith('user:') ? entry.slice('user:'.length) : entry).toLowerCase());
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
  /** The release's last decision, to say what became of the step a late decision was meant for. */
  lastDecision?: DecisionRecord;
}): string | undefined {
  const { pending, approver } = args;
  if (args.rejectedBy) return `already rejected by ${args.rejectedBy}; the release rolls back`;
  if (!pending) return nothingAwaits(args.currentStage, args.lastDecision);
  if (!isListedApprover(approver, pending)) {
    return `${approver.id} is not an approver for "${pending.label}"; approvers are ${pending.from.join(', ')}`;
  }
  if (args.fourEyes && samePerson(approver, args.initiator)) {
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
  lastDecision?: DecisionRecord;
}): string | undefined {
  const { pending } = args;
  if (args.rejectedBy) return `already rejected by ${args.rejectedBy}; the release rolls back`;
  if (!pending) return nothingAwaits(args.currentStage, args.lastDecision);
  // One decision per step: once the quorum is met, the step is decided and the release moves on.
  if (pending.approvals.length >= pending.quorum) {
    return `"${pending.label}" is already approved by ${pending.approvals.map((given) => given.approver).join(', ')}; the release is moving on (abort it to roll back)`;
  }
  if (samePerson(args.approver, args.initiator) || isListedApprover(args.approver, pending)) return undefined;
  return `${args.approver.id} may not reject "${pending.label}"; approvers are ${pending.from.join(', ')}`;
}

/** Four-eyes is on unless the spec says otherwise for environments whose name starts with "prod". */
export function fourEyesApplies(spec: Pick<ReleaseSpec, 'environment' | 'approvals'>): boolean {
  return spec.approvals.fourEyes ?? /^prod/.test(spec.environment);
}
