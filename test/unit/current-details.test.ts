import type { ReleaseStatus } from '../../src/domain/release';
import { currentDetails } from '../../src/workflows/release/current-details';

function status(overrides: Partial<ReleaseStatus>): ReleaseStatus {
  return {
    releaseId: 'payments:production:1.8.0',
    service: 'payments',
    environment: 'production',
    version: '1.8.0',
    initiator: { id: 'alice', via: 'cli' },
    strategy: 'canary',
    stage: 'Shifting',
    weight: 50,
    steps: [],
    decisions: [],
    startedAt: '2026-11-30T10:00:00Z',
    updatedAt: '2026-11-30T10:05:00Z',
    events: [],
    ...overrides,
  };
}

describe("the Temporal UI's current details of a release", () => {
  it('say who approved and who rejected each approval step, and who rolled the release back', () => {
    const details = currentDetails(
      status({
        stage: 'RolledBack',
        weight: 0,
        decisions: [
          { step: 'approval from bob, carol', approver: 'bob', decision: 'approved', at: '2026-11-30T10:01:00Z' },
          { step: 'approval from bob, carol', approver: 'carol', decision: 'rejected', at: '2026-11-30T10:02:00Z' },
        ],
        events: [
          {
            seq: 9,
            at: '2026-11-30T10:02:00Z',
            stage: 'RollingBack',
            kind: 'stage',
            actor: 'carol',
            message: 'rejected',
          },
        ],
        outcome: { stage: 'RolledBack', reason: 'rejected by carol: p99 latency up 40%' },
      }),
    );
    expect(details.split('  \n')).toEqual([
      '**payments** 1.8.0 → production: **RolledBack**, weight 0%',
      'reason: rejected by carol: p99 latency up 40%',
      'approval from bob, carol: approved by bob; rejected by carol',
      'rolled back by **carol**',
    ]);
  });

  it('say how each approver was known: the channel, and verified or taken on trust in local mode', () => {
    const details = currentDetails(
      status({
        stage: 'Shifting',
        decisions: [
          {
            step: 'approval from group:release-managers',
            approver: 'bob@example.com',
            decision: 'approved',
            at: '2026-11-30T10:01:00Z',
            via: 'cli',
            trust: 'verified',
          },
          {
            step: 'approval from group:release-managers',
            approver: 'carol',
            decision: 'approved',
            at: '2026-11-30T10:02:00Z',
            via: 'slack',
            trust: 'none',
          },
        ],
      }),
    );
    expect(details.split('  \n')).toContain(
      'approval from group:release-managers: approved by bob@example.com (cli, verified), carol (slack, on trust: local mode)',
    );
  });

  it('say a rollback Tollgate decided on its own (a failed check or step) was its own', () => {
    const details = currentDetails(
      status({
        stage: 'RolledBack',
        events: [
          { seq: 5, at: '', stage: 'RollingBack', kind: 'stage', actor: 'tollgate', message: 'analysis failed' },
        ],
      }),
    );
    expect(details).toContain('rolled back by Tollgate itself');
  });
});
