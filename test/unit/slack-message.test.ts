import type { ReleaseStatus } from '../../src/domain/release';
import { ACTIONS, renderReleaseMessage } from '../../src/slack/release-message';
import { blocksProblem } from '../support/fake-slack';

function status(overrides: Partial<ReleaseStatus> = {}): ReleaseStatus {
  return {
    releaseId: 'checkout:production:2.4.0',
    service: 'checkout',
    environment: 'production',
    version: '2.4.0',
    stableVersion: '2.3.1',
    initiator: { id: 'U0ALICE', via: 'slack' },
    strategy: 'canary',
    stage: 'Shifting',
    weight: 10,
    steps: [
      { label: 'setWeight 10', state: 'done' },
      { label: 'approval from group:release-managers', state: 'running' },
      { label: 'setWeight 100', state: 'pending' },
    ],
    decisions: [],
    startedAt: '2026-11-23T10:00:00Z',
    updatedAt: '2026-11-23T10:01:00Z',
    events: [],
    ...overrides,
  };
}
const actionIds = (message: ReturnType<typeof renderReleaseMessage>) =>
  message.blocks.flatMap((block) =>
    block.type === 'actions' ? block.elements.map((element) => ('action_id' in element ? element.action_id : '')) : [],
  );

describe('the release message', () => {
  it('offers Approve and Reject while an approval waits, and shows the traffic', () => {
    const message = renderReleaseMessage(
      status({
        pendingApproval: {
          stepIndex: 1,
          label: 'approval from group:release-managers',
          from: ['group:release-managers'],
          quorum: 2,
          approvals: [{ approver: 'U0BOB', at: '' }],
          deadline: '2026-11-24T10:00:00Z',
        },
      }),
      'http://localhost:8233',
    );
    expect(actionIds(message)).toEqual([ACTIONS.approve, ACTIONS.reject, ACTIONS.pause, ACTIONS.rollback]);
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('▰▱▱▱▱▱▱▱▱▱ 10%');
    expect(text).toContain('Awaiting approval* (1/2) from @release-managers');
    expect(text).toContain('Approved by <@U0BOB>');
    expect(text).toContain('http://localhost:8233/namespaces/default/workflows/checkout%3Aproduction%3A2.4.0');
    expect(blocksProblem(message.blocks, 50)).toBeUndefined();
  });

  it('offers Extend, Promote and Roll back with the evidence when analysis is inconclusive', () => {
    const message = renderReleaseMessage(
      status({
        hold: {
          open: false,
          reason: 'analysis inconclusive, waiting for a person to promote, extend or roll back: error-rate',
        },
        lastAnalysis: {
          stepLabel: 'analysis error-rate',
          verdict: 'Inconclusive',
          at: '',
          templates: [
            {
              template: 'error-rate',
              provider: 'prometheus',
              verdict: 'Inconclusive',
              summary: '',
              measurements: [{ at: '', phase: 'Inconclusive', message: 'sum(rate(errors[1m])) returned no data' }],
            },
          ],
        },
      }),
    );
    expect(actionIds(message)).toEqual([ACTIONS.extend, ACTIONS.promote, ACTIONS.rollback]);
    expect(JSON.stringify(message.blocks)).toContain('sum(rate(errors[1m])) returned no data');
  });

  it('shows the schema migrations and the backfill progress, and no Roll back once contracted', () => {
    const backfilling = renderReleaseMessage(
      status({
        stage: 'Backfilling',
        weight: 0,
        migrations: [
          { name: '001_add_primary_email.js', phase: 'expand', state: 'applied' },
          { name: '002_drop_email_address.js', phase: 'contract', state: 'pending' },
        ],
        backfills: [
          {
            migration: '001_add_primary_email.js',
            table: 'users',
            rowsScanned: 45_000,
            rowsUpdated: 44_000,
            rowsTotal: 100_000,
            ratePerSecond: 9000,
            etaSeconds: 6.1,
            done: false,
            resumes: 0,
          },
        ],
      }),
    );
    const text = JSON.stringify(backfilling.blocks);
    expect(text).toContain('expand `001_add_primary_email.js` applied');
    expect(text).toContain(
      'backfill users (001_add_primary_email.js): 45000 of 100000 rows (45%), 9000 rows/s, about 7s left',
    );
    expect(actionIds(backfilling)).toContain(ACTIONS.rollback);
    expect(blocksProblem(backfilling.blocks, 50)).toBeUndefined();

    const contracting = renderReleaseMessage(
      status({ stage: 'Contracting', weight: 100, contractedAt: '2026-11-23T10:05:00Z' }),
    );
    expect(JSON.stringify(contracting.blocks)).toContain(
      'contracted <!date^1795428300^{date_short_pretty} at {time}|2026-11-23T10:05:00Z>: no rollback, fix forward',
    );
    expect(actionIds(contracting)).not.toContain(ACTIONS.rollback);
  });

  it('shows text that is not a Slack id as text: no broadcast, mention or disguised link', () => {
    const hostile = '<!channel> <http://evil.example|runbook> & <@U0BOSS>';
    const message = renderReleaseMessage(
      status({
        initiator: { id: hostile, via: 'cli' },
        stage: 'Shifting',
        hold: { reason: `analysis inconclusive: ${hostile}` },
        steps: [{ label: `approval from ${hostile}`, state: 'running' }],
        decisions: [{ decision: 'rejected', approver: hostile, step: hostile, at: '2026-11-23T10:02:00Z' }],
      } as Partial<ReleaseStatus>),
    );
    const text = JSON.stringify(message.blocks);
    expect(text).not.toMatch(/<!channel>|<http:\/\/evil|<@U0BOSS>/);
    expect(text).toContain('&lt;!channel&gt; &lt;http://evil.example|runbook&gt; &amp; &lt;@U0BOSS&gt;');
    // Slack ids are still mentions.
    expect(JSON.stringify(renderReleaseMessage(status()).blocks)).toContain('<@U0ALICE>');
  });

  it('has no buttons once the release ended, and says how', () => {
    const message = renderReleaseMessage(
      status({ stage: 'RolledBack', outcome: { stage: 'RolledBack', reason: 'rejected by U0BOB' } }),
    );
    expect(actionIds(message)).toEqual([]);
    expect(message.text).toBe('↩️ checkout 2.4.0 → production: RolledBack');
  });

  it('stays within Slack limits for a long release with long evidence', () => {
    const steps = Array.from({ length: 200 }, (_, index) => ({
      label: `setWeight ${index} with a long label `.repeat(5),
      state: 'pending' as const,
    }));
    const message = renderReleaseMessage(
      status({ steps, outcome: { stage: 'Failed', reason: 'x'.repeat(10_000) }, stage: 'Failed' }),
    );
    expect(blocksProblem(message.blocks, 50)).toBeUndefined();
  });

  it('asks before Reject and Roll back act, saying what will happen', () => {
    const message = renderReleaseMessage(
      status({
        pendingApproval: {
          stepIndex: 1,
          label: 'approval from group:release-managers',
          from: ['group:release-managers'],
          quorum: 1,
          approvals: [],
          deadline: '2026-11-24T10:00:00Z',
        },
      }),
    );
    const buttons = message.blocks.flatMap((block) => (block.type === 'actions' ? block.elements : []));
    const confirmOf = (actionId: string) => {
      const found = buttons.find((element) => 'action_id' in element && element.action_id === actionId);
      return found && 'confirm' in found ? found.confirm : undefined;
    };
    expect(confirmOf(ACTIONS.reject)).toMatchObject({
      title: { text: 'Reject this release?' },
      text: { text: 'checkout 2.4.0 rolls back: traffic returns to 2.3.1 and the new version stops.' },
      confirm: { text: 'Reject and roll back' },
      deny: { text: 'Cancel' },
      style: 'danger',
    });
    expect(confirmOf(ACTIONS.rollback)).toMatchObject({ title: { text: 'Roll back now?' } });
    expect(confirmOf(ACTIONS.approve)).toBeUndefined();
    expect(confirmOf(ACTIONS.pause)).toBeUndefined();
    expect(blocksProblem(message.blocks, 50)).toBeUndefined();
  });

  it("shows times in each reader's own time zone, with the ISO time as the fallback", () => {
    const message = renderReleaseMessage(
      status({
        pendingApproval: {
          stepIndex: 1,
          label: 'approval from group:release-managers',
          from: ['group:release-managers'],
          quorum: 1,
          approvals: [],
          deadline: '2026-11-24T10:00:00Z',
        },
      }),
    );
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('Times out <!date^1795514400^{date_short_pretty} at {time}|2026-11-24T10:00:00Z>');
    expect(text).toContain('updated <!date^1795428060^{date_short_pretty} at {time}|2026-11-23T10:01:00Z>');
  });

  it('links to the release in the Temporal UI in the namespace it runs in', () => {
    const text = JSON.stringify(
      renderReleaseMessage(status(), 'https://temporal.example.com/', 'releases-prod').blocks,
    );
    expect(text).toContain(
      'https://temporal.example.com/namespaces/releases-prod/workflows/checkout%3Aproduction%3A2.4.0|Temporal UI',
    );
  });
});
