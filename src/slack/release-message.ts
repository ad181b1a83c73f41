import { temporalUiLink } from '../domain/temporal-ui-link';
import type { Button, KnownBlock } from '@slack/types';
import type { ReleaseStatus } from '../domain/release';
import { describeBackfill } from '../domain/migration-plan';
import { isEndStage } from '../domain/stages';
import { escapeMrkdwn } from './mrkdwn';

/** action_ids of the message's buttons; each carries the release id as its value. */
export const ACTIONS = {
  approve: 'release_approve',
  reject: 'release_reject',
  pause: 'release_pause',
  resume: 'release_resume',
  rollback: 'release_rollback',
  promote: 'release_promote',
  extend: 'release_extend',
} as const;

/** Message metadata: lets a retried post find the message it already posted. */
export const MESSAGE_EVENT_TYPE = 'tollgate_release';

/** Slack's limits we render within (a section's text, a button's label). */
const SECTION_TEXT_LIMIT = 3000;

const STEP_MARKS = { pending: '◻️', running: '▶️', done: '✅', skipped: '⏭️' } as const;
const MIGRATION_MARKS = { pending: '◻️', running: '▶️', applied: '✅', kept: '📌', reverted: '↩️' } as const;
const STAGE_EMOJI: Record<string, string> = { Succeeded: '✅', RolledBack: '↩️', Failed: '🚨', RollingBack: '⏪' };

export type MessageStatus = Omit<ReleaseStatus, 'events'>;

export function trafficBar(weight: number): string {
  const filled = Math.round(weight / 10);
  return `${'▰'.repeat(filled)}${'▱'.repeat(10 - filled)} ${weight}%`;
}

function clip(text: string, limit = SECTION_TEXT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** A question Slack asks before a button acts: for the buttons that roll a release back. */
export interface Confirmation {
  title: string;
  text: string;
  confirm: string;
}

function button(
  text: string,
  actionId: string,
  releaseId: string,
  style?: 'primary' | 'danger',
  confirm?: Confirmation,
): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text, emoji: true },
    action_id: actionId,
    value: releaseId,
    ...(style ? { style } : {}),
    ...(confirm
      ? {
          confirm: {
            title: { type: 'plain_text', text: confirm.title },
            text: { type: 'mrkdwn', text: confirm.text },
            confirm: { type: 'plain_text', text: confirm.confirm },
            deny: { type: 'plain_text', text: 'Cancel' },
            style: 'danger',
          },
        }
      : {}),
  };
}

/**
 * A time as Slack shows it to each reader, in their own time zone ("Tuesday at 14:05"); clients
 * that cannot format it show the ISO time. https://api.slack.com/reference/surfaces/formatting#date-formatting
 */
export function slackTime(iso: string): string {
  const millis = Date.parse(iso);
  if (Number.isNaN(millis)) return iso;
  return `<!date^${Math.floor(millis / 1000)}^{date_short_pretty} at {time}|${iso}>`;
}

/** Who did it, as Slack shows people: a mention for Slack user ids, the id as text otherwise. */
export function person(id: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(id) ? `<@${id}>` : escapeMrkdwn(id);
}

/** The live message of a release: where it stands, and the buttons that make sense right now. */
export function renderReleaseMessage(
  status: MessageStatus,
  uiUrl?: string,
  namespace = 'default',
): { text: string; blocks: KnownBlock[] } {
  const ended = isEndStage(status.stage);
  const headline = `${STAGE_EMOJI[status.stage] ?? '🚦'} ${status.service} ${status.version} → ${status.environment}: ${status.stage}`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(headline, 150), emoji: true } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Traffic*\n\`${trafficBar(status.weight)}\`` },
        { type: 'mrkdwn', text: `*Started by*\n${person(status.initiator.id)}` },
        { type: 'mrkdwn', text: `*Stable version*\n${status.stableVersion ?? 'none yet'}` },
        { type: 'mrkdwn', text: `*Strategy*\n${status.strategy}` },
      ],
    },
  ];
  const steps = status.steps
    .map((step, index) => `${STEP_MARKS[step.state]} ${index + 1}. ${escapeMrkdwn(step.label)}`)
    .join('\n');
  if (steps) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Steps*\n${steps}`) } });
  const schema = [
    ...(status.migrations ?? []).map(
      (migration) =>
        `${MIGRATION_MARKS[migration.state]} ${migration.phase} \`${escapeMrkdwn(migration.name)}\` ${migration.state}`,
    ),
    ...(status.backfills ?? []).map(
      (backfill) =>
        `${backfill.done ? '✅' : '⏳'} ${escapeMrkdwn(describeBackfill(backfill))}${backfill.done ? ', done' : ''}`,
    ),
    ...(status.contractedAt ? [`🔒 contracted ${slackTime(status.contractedAt)}: no rollback, fix forward`] : []),
  ];
  if (schema.length)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Schema*\n${schema.join('\n')}`) } });

  if (status.outcome?.reason)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Outcome*\n${escapeMrkdwn(status.outcome.reason)}`) },
    });
  if (status.hold && !ended)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`:hourglass: *Holding:* ${escapeMrkdwn(status.hold.reason)}`) },
    });

  const pending = status.pendingApproval;
  if (pending) {
    const given = pending.approvals.map((approval) => person(approval.approver)).join(', ');
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(
          `*Awaiting approval* (${pending.approvals.length}/${pending.quorum}) from ${pending.from.map((entry) => (entry.startsWith('group:') ? `@${escapeMrkdwn(entry.slice(6))}` : person(entry))).join(', ')}` +
            `${given ? `\nApproved by ${given}` : ''}\nTimes out ${slackTime(pending.deadline)}`,
        ),
      },
    });
  }
  if (status.decisions.length) {
    const lines = status.decisions.map(
      (d) =>
        `${d.decision === 'approved' ? '👍 Approved' : '👎 Rejected'} by ${person(d.approver)} (${escapeMrkdwn(d.step)})`,
    );
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(lines.join('\n'), 2000) }] });
  }

  const analysis = status.lastAnalysis;
  if (analysis) {
    const evidence = analysis.templates
      .map((template) => {
        const last = template.measurements
          .slice(-3)
          .map((m) => `• ${m.phase}: ${escapeMrkdwn(m.message)}`)
          .join('\n');
        return `*${escapeMrkdwn(template.template)}* (${template.provider}): ${template.verdict}\n${last}`;
      })
      .join('\n');
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(`*Last analysis:* ${analysis.verdict} (${escapeMrkdwn(analysis.stepLabel)})\n${evidence}`),
      },
    });
  }

  if (!ended) {
    const buttons: Button[] = [];
    const inconclusive = status.hold?.reason.startsWith('analysis inconclusive');
    if (pending)
      buttons.push(
        button('Approve', ACTIONS.approve, status.releaseId, 'primary'),
        button('Reject', ACTIONS.reject, status.releaseId, 'danger', {
          title: 'Reject this release?',
          text: `${status.service} ${status.version} rolls back: traffic returns to ${status.stableVersion ?? 'the stable version'} and the new version stops.`,
          confirm: 'Reject and roll back',
        }),
      );
    if (inconclusive)
      buttons.push(
        button('Extend analysis', ACTIONS.extend, status.releaseId),
        button('Promote', ACTIONS.promote, status.releaseId, 'primary'),
      );
    if (!inconclusive && status.stage !== 'RollingBack') {
      buttons.push(
        status.paused
          ? button('Resume', ACTIONS.resume, status.releaseId)
          : button('Pause', ACTIONS.pause, status.releaseId),
      );
    }
    if (status.stage !== 'RollingBack' && !status.contractedAt)
      buttons.push(
        button('Roll back', ACTIONS.rollback, status.releaseId, 'danger', {
          title: 'Roll back now?',
          text: `${status.service} ${status.version} at ${status.weight}% goes back to ${status.stableVersion ?? 'the stable version'}; the release ends RolledBack.`,
          confirm: 'Roll back',
        }),
      );
    if (buttons.length) blocks.push({ type: 'actions', block_id: 'release_actions', elements: buttons });
  }

  const link = uiUrl ? ` · <${temporalUiLink(uiUrl, status.releaseId, namespace)}|Temporal UI>` : '';
  blocks.push({
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: clip(`\`${status.releaseId}\`${link} · updated ${slackTime(status.updatedAt)}`, 2000) },
    ],
  });
  return { text: headline, blocks };
}
