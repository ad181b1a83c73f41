import { temporalUiLink } from '../domain/temporal-ui-link';
import { describeFlagSetting, flagsToCleanUp } from '../domain/flags';
import { describeBackfill } from '../domain/migration-plan';
import type { ReleaseStatus } from '../domain/release';

/** ██████░░░░ 60% — the traffic on the new version, at a glance. */
export function trafficBar(weight: number, width = 20): string {
  const filled = Math.round((weight / 100) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${weight}%`;
}

const STEP_MARKS = { pending: ' ', running: '▶', done: '✓', skipped: '-' } as const;

export function renderStatus(status: ReleaseStatus, uiUrl?: string, events = 10, namespace = 'default'): string {
  const lines = [
    `${status.releaseId}`,
    `  ${status.service} ${status.version} → ${status.environment} (${status.strategy}), started by ${status.initiator.name ?? status.initiator.id}`,
    `  stage    ${status.stage}${status.outcome?.reason ? `: ${status.outcome.reason}` : ''}`,
    `  traffic  ${trafficBar(status.weight)}`,
    // Once a release Succeeded it is the stable version; before, the stable one is its rollback target.
    status.outcome?.stage === 'Succeeded'
      ? `  stable   ${status.version} (this release; before it ${status.stableVersion ?? 'none'})`
      : `  stable   ${status.stableVersion ?? '(none yet)'}`,
  ];
  // The hold is said once, on its own line, with when it began: not again among the events.
  const holdMessage = status.hold && `holding: ${status.hold.reason}`;
  const holdEvent = holdMessage
    ? [...status.events].reverse().find((event) => event.message === holdMessage)
    : undefined;
  if (status.hold)
    lines.push(
      `  holding  ${status.hold.reason}${status.hold.reopensAt ? ` (until ${status.hold.reopensAt})` : ''}${holdEvent ? `, since ${holdEvent.at}` : ''}`,
    );
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
  if (status.flags?.length) {
    lines.push('  feature flags');
    for (const setting of status.flags) lines.push(`    ${describeFlagSetting(setting)}`);
    const cleanup = flagsToCleanUp(status);
    if (cleanup.length)
      lines.push(`    clean up (on for everyone; remove from code and archive): ${cleanup.join(', ')}`);
  }
  if (events > 0) {
    lines.push('  recent events');
    for (const event of status.events.filter((event) => event !== holdEvent).slice(-events))
      lines.push(`    ${event.at}  ${event.actor.padEnd(10)} ${event.message}`);
  }
  if (uiUrl) lines.push(`  ${temporalUiLink(uiUrl, status.releaseId, namespace)}`);
  return lines.join('\n');
}
