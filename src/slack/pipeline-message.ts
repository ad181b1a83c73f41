import type { Button, KnownBlock } from '@slack/types';
import type { EnvironmentState, PipelineStatus } from '../domain/pipeline';
import { ACTIONS, person, slackTime } from './release-message';

const ENVIRONMENT_MARKS: Record<EnvironmentState, string> = {
  pending: '◻️',
  gated: '⏳',
  releasing: '▶️',
  Succeeded: '✅',
  RolledBack: '↩️',
  Failed: '🚨',
  skipped: '⏭️',
};
const OUTCOME_EMOJI = { Succeeded: '✅', Failed: '🚨', Rejected: '⛔', Superseded: '⏭️' } as const;

/**
 * The live message of a pipeline run: the whole run, one line per environment (its state, its
 * release, what it waits for, why it stopped), and Approve / Reject while a promotion awaits a
 * person. The buttons carry the run's id: the release's own approve and reject reach it.
 */
export function renderPipelineMessage(status: PipelineStatus): { text: string; blocks: KnownBlock[] } {
  const outcome = status.outcome?.outcome;
  const headline = `${outcome ? OUTCOME_EMOJI[outcome] : '🚦'} ${status.pipeline} ${status.version}: ${outcome ?? `at ${status.current ?? 'its start'}`}`;
  const environments = status.environments
    .map(
      (e) =>
        `${ENVIRONMENT_MARKS[e.state]} *${e.environment}* ${e.state}` +
        `${e.releaseId ? ` \`${e.releaseId}\`` : ''}${e.waitingFor ? `, waiting for ${e.waitingFor}` : ''}` +
        `${e.verification ? ` · smoke checks ${e.verification.passed ? 'passed' : `failed (${e.verification.failedCheck})`}` : ''}` +
        `${e.reason && e.state !== 'Succeeded' ? `\n    ${e.reason.slice(0, 300)}` : ''}`,
    )
    .join('\n');
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: headline.slice(0, 150), emoji: true } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Commit*\n\`${status.commit.sha.slice(0, 12)}\`` },
        { type: 'mrkdwn', text: `*Started by*\n${person(status.initiator.id)}` },
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: `*Environments*\n${environments}`.slice(0, 3000) } },
  ];
  if (status.outcome?.reason)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*Outcome*\n${status.outcome.reason}`.slice(0, 3000) },
    });
  const pending = status.pendingApproval;
  if (pending && !outcome) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${pending.label}* awaits approval (${pending.approvals.length}/${pending.quorum}) from ${pending.from.join(', ')}; times out ${slackTime(pending.deadline)}`,
      },
    });
    blocks.push({
      type: 'actions',
      elements: [
        button('Approve', ACTIONS.approve, status.pipelineId, 'primary'),
        button('Reject', ACTIONS.reject, status.pipelineId, 'danger'),
      ],
    });
  }
  return { text: headline, blocks };
}

function button(text: string, actionId: string, value: string, style: 'primary' | 'danger'): Button {
  return { type: 'button', text: { type: 'plain_text', text, emoji: true }, action_id: actionId, value, style };
}
