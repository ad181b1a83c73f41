import { temporalUiLink } from '../domain/temporal-ui-link';
import { describeBackfill } from '../domain/migration-plan';
import type { ReleaseStatus } from '../domain/release';

/** ██████░░░░ 60% — the traffic on the new version, at a glance. */
export function trafficBar(weight: number, width = 20): string {
  const filled = Math.round((weight / 100) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${weight}%`;
}

const STEP_MARKS = { pending: ' ', running: '▶', done: '✓', skipped: '-' } as const;

export function renderStatus(status: ReleaseStatus, uiUrl?: string, events = 10): string {
  const lines = [
    `${status.releaseId}`,
    `  ${status.service} ${status.version} → ${status.environment} (${status.strategy}), started by ${status.initiator.name ?? status.initiator.id}`,
    `  stage    ${status.stage}${status.outcome?.reason ? `: ${status.outcome.reason}` : ''}`,
    `  traffic  ${trafficBar(status.weight)}`,
    `  stable   ${status.stableVersion ?? '(none yet)'}`,
  ];
  if (status.hold)
    lines.push(`  holding  ${status.hold.reason}${status.hold.reopensAt ? ` (until ${status.hold.reopensAt})` : ''}`);
  if (status.pendingApproval) {
    const pending = status.pendingApproval;
    lines.push(
      `  approval ${pending.label}: ${pending.approvals.length}/${pending.quorum} (${pending.approvals.map((a) => a.approver).join(', ') || 'none yet'}); times out ${pending.deadline}`,
    );
  }
  if (status.lastAnalysis)
    lines.push(
      `  analysis ${status.lastAnalysis.verdict}: ${status.lastAnalysis.templates.map((t) => t.summary).join('; ')}`,
    );
  lines.push('  steps');
  status.steps.forEach((step, index) => lines.push(`    ${STEP_MARKS[step.state]} ${index + 1}. ${step.label}`));
  if (status.migrations?.length || status.backfills?.length) {
    lines.push('  schema');
    for (const migration of status.migrations ?? [])
      lines.push(`    ${migration.phase.padEnd(8)} ${migration.name}: ${migration.state}`);
    for (const backfill of status.backfills ?? [])
      lines.push(`    ${describeBackfill(backfill)}${backfill.done ? ', done' : ''}`);
    if (status.contractedAt) lines.push(`    contracted at ${status.contractedAt}: no rollback, fix forward`);
  }
  if (events > 0) {
    lines.push('  recent events');
    for (const event of status.events.slice(-events))
      lines.push(`    ${event.at}  ${event.actor.padEnd(10)} ${event.message}`);
  }
  if (uiUrl) lines.push(`  ${temporalUiLink(uiUrl, status.releaseId)}`);
  return lines.join('\n');
}
