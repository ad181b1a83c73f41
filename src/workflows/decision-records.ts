import type { DecisionRecord, PendingApproval, Provenance } from '../domain/approval';
import type { Actor } from '../domain/spec';

/**
 * An approval, as a release and a pipeline run keep it: on the pending gate and in the run's
 * decisions, with who made it, through which channel and whether their identity was verified (an
 * auditor reads the same record whichever was approved). Returns how many approvals are still needed.
 */
export function noteApproval(
  pending: PendingApproval,
  decisions: DecisionRecord[],
  approver: Actor,
  comment: string | undefined,
): number {
  const at = new Date().toISOString();
  const { via, trust } = approver;
  pending.approvals.push({ approver: approver.id, approverName: approver.name, at, comment, via, trust });
  decisions.push({ step: pending.label, approver: approver.id, decision: 'approved', at, via, trust });
  return Math.max(0, pending.quorum - pending.approvals.length);
}

/** A rejection, in the run's decisions, with the same provenance as an approval. */
export function noteRejection(pending: PendingApproval, decisions: DecisionRecord[], approver: Actor): void {
  const { via, trust } = approver;
  decisions.push({
    step: pending.label,
    approver: approver.id,
    decision: 'rejected',
    at: new Date().toISOString(),
    via,
    trust,
  });
}

/** How a decision's maker was known, for a line of text: through which channel, verified or taken on trust (local mode). */
export function howKnown({ via, trust }: Provenance): string {
  if (!trust) return '';
  return ` (${via ? `${via}, ` : ''}${trust === 'verified' ? 'verified' : 'on trust: local mode'})`;
}
