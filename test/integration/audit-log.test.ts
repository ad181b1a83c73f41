import type { Knex } from 'knex';
import { appendToAuditLog } from '../../src/audit/audit-log';
import { migrateToLatest } from '../../src/audit/database';
import { approvalsOf, releaseEvents, releaseHistory } from '../../src/audit/history';
import { renderHistory } from '../../src/audit/report';
import type { ReleaseEvent } from '../../src/domain/events';
import type { ReleaseRecord } from '../../src/domain/release';
import { createTestDatabase, type TestDatabase } from '../support/database';

const MINUTE = 60_000;

let database: TestDatabase;
let db: Knex;

beforeAll(async () => {
  database = await createTestDatabase('tollgate_audit_log');
  db = database.db;
  await migrateToLatest(db);
});

afterAll(async () => {
  await database?.drop();
});

/** A release of checkout to production that was asked for at `requestedAt` and is still shifting traffic. */
function release(overrides: Partial<ReleaseRecord> & Pick<ReleaseRecord, 'releaseId'>): ReleaseRecord {
  return {
    service: 'checkout',
    environment: 'production',
    version: '2.4.0',
    stableVersion: '2.3.1',
    initiator: 'alice',
    strategy: 'canary',
    stage: 'Shifting',
    attempt: 1,
    requestedAt: '2026-11-20T10:00:00.000Z',
    ...overrides,
  };
}

function event(seq: number, overrides: Partial<ReleaseEvent> = {}): ReleaseEvent {
  return {
    seq,
    at: new Date(Date.parse('2026-11-20T10:00:00.000Z') + seq * MINUTE).toISOString(),
    stage: 'Shifting',
    kind: 'step',
    actor: 'tollgate',
    message: `step ${seq}`,
    ...overrides,
  };
}

async function eventRowCount(releaseId: string): Promise<number> {
  const [{ count }] = await db('release_events').where({ release_id: releaseId }).count<{ count: string }[]>('*');
  return Number(count);
}

describe('the audit log', () => {
  it('gives back a release’s events in seq order, whatever order they were written in', async () => {
    const releaseId = 'checkout:production:order';
    await appendToAuditLog(db, {
      release: release({ releaseId }),
      events: [event(2, { data: { weight: 10, analysis: { passed: true } } }), event(0), event(1)],
    });

    const events = await releaseEvents(db, releaseId);

    expect(events.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(events[2]).toEqual(event(2, { data: { weight: 10, analysis: { passed: true } } }));
    expect(events[0]).not.toHaveProperty('data');
  });

  it('writes no duplicate event rows when a batch is retried', async () => {
    const releaseId = 'checkout:production:retried';
    const batch = { release: release({ releaseId }), events: [event(0), event(1), event(2)] };

    await appendToAuditLog(db, batch);
    await appendToAuditLog(db, batch);
    await appendToAuditLog(db, batch);

    expect(await eventRowCount(releaseId)).toBe(3);
    expect((await releaseEvents(db, releaseId)).map((e) => e.seq)).toEqual([0, 1, 2]);
  });

  it('does not move a finished release back when an older batch arrives late', async () => {
    const releaseId = 'checkout:production:late-batch';
    const older = { release: release({ releaseId, stage: 'Shifting' }), events: [event(0), event(1)] };
    const newer = {
      release: release({
        releaseId,
        stage: 'Succeeded',
        outcome: 'Succeeded',
        finishedAt: '2026-11-20T10:45:00.000Z',
      }),
      events: [event(2, { stage: 'Succeeded', kind: 'stage', message: 'release succeeded' })],
    };

    await appendToAuditLog(db, newer);
    await appendToAuditLog(db, older);

    const [row] = await releaseHistory(db, { service: 'checkout' }).then((rows) =>
      rows.filter((r) => r.releaseId === releaseId),
    );
    expect(row).toMatchObject({ stage: 'Succeeded', outcome: 'Succeeded', finishedAt: '2026-11-20T10:45:00.000Z' });
    // The late batch's events are still history worth keeping.
    expect((await releaseEvents(db, releaseId)).map((e) => e.seq)).toEqual([0, 1, 2]);
  });

  it('moves a release forward when a newer batch arrives', async () => {
    const releaseId = 'checkout:production:forward';
    await appendToAuditLog(db, { release: release({ releaseId, stage: 'Deploying' }), events: [event(0)] });
    await appendToAuditLog(db, {
      release: release({ releaseId, stage: 'RollingBack', rollbackStartedAt: '2026-11-20T10:05:00.000Z' }),
      events: [event(1, { stage: 'RollingBack', kind: 'analysis', message: 'error-rate breached' })],
    });

    const rows = await releaseHistory(db, { service: 'checkout' });
    expect(rows.find((r) => r.releaseId === releaseId)).toMatchObject({ stage: 'RollingBack', outcome: undefined });
  });

  it('records approvals and rejections in the approvals table, and nothing else there', async () => {
    const releaseId = 'checkout:production:approvals';
    await appendToAuditLog(db, {
      release: release({ releaseId }),
      events: [
        event(0, { kind: 'step', message: 'setWeight 50' }),
        event(1, {
          kind: 'approval',
          actor: 'bob',
          message: 'bob approved',
          data: { step: 'approval at 50%', comment: 'dashboards look fine' },
        }),
        event(2, { kind: 'rejection', actor: 'carol', message: 'carol rejected', data: { step: 'approval at 50%' } }),
        event(3, { kind: 'pause', actor: 'dave', message: 'paused' }),
      ],
    });

    expect(await approvalsOf(db, releaseId)).toEqual([
      {
        seq: 1,
        step: 'approval at 50%',
        approver: 'bob',
        decision: 'approved',
        comment: 'dashboards look fine',
        at: event(1).at,
      },
      { seq: 2, step: 'approval at 50%', approver: 'carol', decision: 'rejected', at: event(2).at },
    ]);
  });

  it('records a retried approval once', async () => {
    const releaseId = 'checkout:production:approval-retried';
    const batch = {
      release: release({ releaseId }),
      events: [event(0, { kind: 'approval', actor: 'bob', message: 'bob approved', data: { step: 'contract' } })],
    };

    await appendToAuditLog(db, batch);
    await appendToAuditLog(db, batch);

    expect(await approvalsOf(db, releaseId)).toHaveLength(1);
  });

  it('has no events and no approvals for a release it never saw', async () => {
    expect(await releaseEvents(db, 'nobody:nowhere:0.0.0')).toEqual([]);
    expect(await approvalsOf(db, 'nobody:nowhere:0.0.0')).toEqual([]);
  });
});

describe('the release history', () => {
  const service = 'history-service';

  beforeAll(async () => {
    const releases: ReleaseRecord[] = [
      release({
        releaseId: `${service}:production:1.0.0`,
        service,
        version: '1.0.0',
        stage: 'Succeeded',
        outcome: 'Succeeded',
        requestedAt: '2026-11-01T09:00:00.000Z',
        finishedAt: '2026-11-01T09:42:30.000Z',
      }),
      release({
        releaseId: `${service}:production:1.1.0`,
        service,
        version: '1.1.0',
        stage: 'RolledBack',
        outcome: 'RolledBack',
        reason: 'analysis error-rate failed: 0.04 >= 0.01',
        requestedAt: '2026-11-02T09:00:00.000Z',
        rollbackStartedAt: '2026-11-02T09:10:00.000Z',
        finishedAt: '2026-11-02T09:12:00.000Z',
      }),
      release({
        releaseId: `${service}:staging:1.2.0`,
        service,
        environment: 'staging',
        version: '1.2.0',
        stage: 'Succeeded',
        outcome: 'Succeeded',
        requestedAt: '2026-11-03T09:00:00.000Z',
        finishedAt: '2026-11-03T09:05:00.000Z',
      }),
      release({
        releaseId: `${service}:production:1.2.0`,
        service,
        version: '1.2.0',
        stage: 'Shifting',
        initiator: 'bob',
        requestedAt: '2026-11-04T09:00:00.000Z',
      }),
      release({ releaseId: 'another-service:production:9.9.9', service: 'another-service', version: '9.9.9' }),
    ];
    for (const [index, record] of releases.entries()) {
      await appendToAuditLog(db, { release: record, events: [event(index)] });
    }
  });

  it('lists a service’s releases newest first, with how long each took', async () => {
    const rows = await releaseHistory(db, { service });

    expect(rows.map((row) => row.releaseId)).toEqual([
      `${service}:production:1.2.0`,
      `${service}:staging:1.2.0`,
      `${service}:production:1.1.0`,
      `${service}:production:1.0.0`,
    ]);
    expect(rows[3]).toEqual({
      releaseId: `${service}:production:1.0.0`,
      environment: 'production',
      version: '1.0.0',
      stage: 'Succeeded',
      outcome: 'Succeeded',
      initiator: 'alice',
      requestedAt: '2026-11-01T09:00:00.000Z',
      finishedAt: '2026-11-01T09:42:30.000Z',
      durationMs: 42 * MINUTE + 30_000,
    });
    expect(rows[2]).toMatchObject({ outcome: 'RolledBack', reason: 'analysis error-rate failed: 0.04 >= 0.01' });
  });

  it('shows a running release with no finish time and no duration yet', async () => {
    const [running] = await releaseHistory(db, { service, limit: 1 });

    expect(running).toMatchObject({ stage: 'Shifting', initiator: 'bob' });
    expect(running.finishedAt).toBeUndefined();
    expect(running.durationMs).toBeUndefined();
    expect(running.outcome).toBeUndefined();
  });

  it('narrows to one environment and honours the limit', async () => {
    const production = await releaseHistory(db, { service, environment: 'production', limit: 2 });

    expect(production.map((row) => row.version)).toEqual(['1.2.0', '1.1.0']);
  });

  it('refuses a limit that is not a positive whole number', async () => {
    await expect(releaseHistory(db, { service, limit: 0 })).rejects.toThrow(RangeError);
  });

  it('renders the history as a table with a header and one line per release', async () => {
    const text = renderHistory(await releaseHistory(db, { service }));
    const lines = text.split('\n');

    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^RELEASE\s+ENVIRONMENT\s+VERSION\s+STAGE\s+INITIATOR\s+REQUESTED\s+DURATION\s+REASON$/);
    expect(lines[4]).toMatch(/^history-service:production:1\.0\.0\s+production\s+1\.0\.0\s+Succeeded\s+alice\s+/);
    expect(lines[4]).toMatch(/\s+2026-11-01 09:00Z\s+42m 30s$/);
    expect(lines[3]).toContain('analysis error-rate failed: 0.04 >= 0.01');
    expect(lines[1]).toMatch(/Shifting\s+bob\s+2026-11-04 09:00Z\s+-$/);
    expect(lines.every((line) => line === line.trimEnd())).toBe(true);
    expect(renderHistory([])).toBe('No releases found.');
  });
});
