import { describeBackfill } from '../../domain/migration-plan';
import type { ReleaseStatus } from '../../domain/release';

/** The Temporal UI's "current details": where the release stands, in a few lines of markdown. */
export function currentDetails(s: ReleaseStatus): string {
  const lines = [
    `**${s.service}** ${s.version} → ${s.environment}: **${s.stage}**, weight ${s.weight}%`,
    s.step ? `step ${s.step.index + 1}/${s.step.total}: ${s.step.label}` : undefined,
    s.hold ? `holding: ${s.hold.reason}` : undefined,
    s.pendingApproval
      ? `awaiting approval from ${s.pendingApproval.from.join(', ')} (${s.pendingApproval.approvals.length}/${s.pendingApproval.quorum})`
      : undefined,
    ...(s.backfills ?? []).filter((backfill) => !backfill.done).map(describeBackfill),
    s.outcome?.reason ? `reason: ${s.outcome.reason}` : undefined,
  ];
  return lines.filter(Boolean).join('\n\n');
}
