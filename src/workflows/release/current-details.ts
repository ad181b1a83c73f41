import { describeBackfill } from '../../domain/migration-plan';
import type { ReleaseStatus } from '../../domain/release';
import { howKnown } from '../decision-records';

/** The Temporal UI's "current details": where the release stands, in a few lines of markdown. */
export function currentDetails(s: ReleaseStatus): string {
  const lines = [
    `**${s.service}** ${s.version} → ${s.environment}: **${s.stage}**, weight ${s.weight}%`,
    s.outcome?.reason ? `reason: ${s.outcome.reason}` : undefined,
    s.step ? `step ${s.step.index + 1} of ${s.step.total}: ${s.step.label}` : undefined,
    s.hold ? `holding: ${s.hold.reason}` : undefined,
    s.pendingApproval
      ? `awaiting approval from ${s.pendingApproval.from.join(', ')} (${s.pendingApproval.approvals.length}/${s.pendingApproval.quorum})`
      : undefined,
    ...(s.backfills ?? []).filter((backfill) => !backfill.done).map(describeBackfill),
    ...approvals(s),
    rolledBackBy(s),
  ];
  // Markdown hard line breaks, not paragraphs: the UI's panel is a few lines tall.
  return lines.filter(Boolean).join('  \n');
}

/** Who approved and who rejected, step by step: the people behind the release, without opening payloads. */
function approvals(s: ReleaseStatus): string[] {
  const byStep = new Map<string, { approved: string[]; rejected: string[] }>();
  for (const decision of s.decisions) {
    const entry = byStep.get(decision.step) ?? { approved: [], rejected: [] };
    entry[decision.decision].push(`${decision.approver}${howKnown(decision)}`);
    byStep.set(decision.step, entry);
  }
  return [...byStep].map(
    ([step, { approved, rejected }]) =>
      `${step}: ${[approved.length ? `approved by ${approved.join(', ')}` : '', rejected.length ? `rejected by ${rejected.join(', ')}` : ''].filter(Boolean).join('; ')}`,
  );
}

/** Who started the rollback: a person (an abort, a rejection, `tollgate rollback`), or Tollgate itself (a failed check or step). */
function rolledBackBy(s: ReleaseStatus): string | undefined {
  const began = s.events.find((event) => event.stage === 'RollingBack');
  if (!began) return undefined;
  return began.actor === 'tollgate' ? 'rolled back by Tollgate itself' : `rolled back by **${began.actor}**`;
}
