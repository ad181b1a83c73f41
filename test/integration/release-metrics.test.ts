import { appendToAuditLog } from '../../src/audit/audit-log';
import { migrateToLatest } from '../../src/audit/database';
import type { ReleaseEvent } from '../../src/domain/events';
import type { ReleaseRecord } from '../../src/domain/release';
import { createReleaseMetricsRegistry } from '../../src/telemetry/release-metrics';
import { createTestDatabase, type TestDatabase } from '../support/database';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
});
afterAll(() => database?.drop());

const hour = 3_600_000;
const at = (offsetMs: number) => new Date(Date.now() - 2 * hour + offsetMs).toISOString();

function release(id: string, outcome: ReleaseRecord['outcome'], extra: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    releaseId: id,
    service: 'checkout',
    environment: 'production',
    version: id,
    initiator: 'alice',
    strategy: 'canary',
    stage: outcome ?? 'Shifting',
    attempt: 1,
    requestedAt: at(0),
    committedAt: at(-hour),
    finishedAt: outcome ? at(60_000) : undefined,
    outcome,
    ...extra,
  };
}

function event(
  seq: number,
  offsetMs: number,
  stage: ReleaseEvent['stage'],
  kind: ReleaseEvent['kind'],
  message: string,
  actor = 'tollgate',
): ReleaseEvent {
  return { seq, at: at(offsetMs), stage, kind, actor, message };
}

describe('Tollgate metrics for Prometheus', () => {
  it('counts releases by outcome, times stages and approval waits, and reports delivery metrics, from the audit log', async () => {
    await appendToAuditLog(database.db, {
      release: release('1.0.0', 'Succeeded'),
      events: [
        event(0, 0, 'Queued', 'stage', 'Queued: waiting'),
        event(1, 2_000, 'Planning', 'stage', 'Planning: canary'),
        event(2, 3_000, 'Shifting', 'stage', 'Shifting: 2 steps'),
        event(3, 4_000, 'Shifting', 'step', 'step 1/2: approval from bob'),
        event(4, 40_000, 'Shifting', 'approval', 'approved by bob', 'bob'),
        {
          ...event(5, 50_000, 'Backfilling', 'step', 'backfill users: done, 1200 row(s) rewritten'),
          data: {
            backfill: {
              migration: '001_add_primary_email.js',
              table: 'users',
              rowsScanned: 1500,
              rowsUpdated: 1200,
              resumes: 0,
            },
          },
        },
        event(6, 60_000, 'Succeeded', 'stage', 'Succeeded: done'),
      ],
    });
    await appendToAuditLog(database.db, {
      release: release('1.1.0', 'RolledBack', { rollbackStartedAt: at(30_000) }),
      events: [event(0, 0, 'Queued', 'stage', 'Queued: waiting')],
    });
    await appendToAuditLog(database.db, {
      release: release('1.2.0', undefined),
      events: [event(0, 0, 'Queued', 'stage', 'Queued: waiting')],
    });

    const text = await createReleaseMetricsRegistry(database.db).metrics();
    expect(text).toContain('# TYPE tollgate_releases_started_total counter');
    expect(text).toContain('tollgate_releases_started_total{service="checkout",environment="production"} 3');
    expect(text).toContain(
      'tollgate_releases_finished_total{service="checkout",environment="production",outcome="Succeeded"} 1',
    );
    expect(text).toContain(
      'tollgate_releases_finished_total{service="checkout",environment="production",outcome="RolledBack"} 1',
    );
    expect(text).toContain('tollgate_releases_running{service="checkout",environment="production",stage="Shifting"} 1');
    expect(text).toContain('# TYPE tollgate_stage_duration_seconds histogram');
    // Queued lasted 2 s, Planning 1 s, Shifting 57 s.
    expect(text).toContain('tollgate_stage_duration_seconds_bucket{le="1",stage="Planning"} 1');
    expect(text).toContain('tollgate_stage_duration_seconds_sum{stage="Shifting"} 57');
    expect(text).toContain('tollgate_approval_wait_seconds_sum{decision="approved"} 36');
    expect(text).toContain(
      'tollgate_backfill_rows_total{service="checkout",environment="production",table="users"} 1200',
    );
    expect(text).toContain('tollgate_dora_change_failure_rate{service="checkout",environment="production"} 0.5');
    expect(text).toMatch(/tollgate_dora_lead_time_seconds\{service="checkout",environment="production"\} 3660\b/);
  });
});
