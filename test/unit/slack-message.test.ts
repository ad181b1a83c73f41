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
  message.blocks.flatMap((block) => (block.type === 'actions' ? block.elements.map((element) => ('action_id' in element ? element.action_id : '')) : []));

describe('the release message', () => {
  it('offers Approve and Reject while an approval waits, and shows the traffic', () => {
    const message = renderReleaseMessage(
      status({ pendingApproval: { stepIndex: 1, label: 'approval from group:release-managers', from: ['group:release-managers'], quorum: 2, approvals: [{ approver: 'U0BOB', at: '' }], deadline: '2026-11-24T10:00:00Z' } }),
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
        hold: { open: false, reason: 'analysis inconclusive, waiting for a person to promote, extend or roll back: error-rate' },
        lastAnalysis: {
          stepLabel: 'analysis error-rate',
          verdict: 'Inconclusive',
          at: '',
          templates: [{ template: 'error-rate', provider: 'prometheus', verdict: 'Inconclusive', summary: '', measurements: [{ at: '', phase: 'Inconclusive', message: 'sum(rate(errors[1m])) returned no data' }] }],
        },
      }),
    );
    expect(actionIds(message)).toEqual([ACTIONS.extend, ACTIONS.promote, ACTIONS.rollback]);
    expect(JSON.stringify(message.blocks)).toContain('sum(rate(errors[1m])) returned no data');
  });

  it('has no buttons once the release ended, and says how', () => {
    const message = renderReleaseMessage(status({ stage: 'RolledBack', outcome: { stage: 'RolledBack', reason: 'rejected by U0BOB' } }));
    expect(actionIds(message)).toEqual([]);
    expect(message.text).toBe('↩️ checkout 2.4.0 → production: RolledBack');
  });

  it('stays within Slack limits for a long release with long evidence', () => {
    const steps = Array.from({ length: 200 }, (_, index) => ({ label: `setWeight ${index} with a long label `.repeat(5), state: 'pending' as const }));
    const message = renderReleaseMessage(status({ steps, outcome: { stage: 'Failed', reason: 'x'.repeat(10_000) }, stage: 'Failed' }));
    expect(blocksProblem(message.blocks, 50)).toBeUndefined();
  });
});
