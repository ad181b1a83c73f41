import type { Knex } from 'knex';
import { appendToAuditLog } from '../../src/audit/audit-log';
import { migrateToLatest } from '../../src/audit/database';
import {
  changeFailureRateBand,
  deliveryMetrics,
  deploymentFrequencyBand,
  leadTimeBand,
  timeToRestoreBand,
} from '../../src/audit/dora';
import { renderDeliveryMetrics } from '../../src/audit/report';
import type { ReleaseRecord } from '../../src/domain/release';
import type { EndStage } from '../../src/domain/stages';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { required } from '../../src/domain/required';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Four days: releases count in the window in which they finished. */
const since = new Date('2026-11-01T00:00:00.000Z');
const until = new Date('2026-11-05T00:00:00.000Z');

let database: TestDatabase;
let db: Knex;

/** A release as the workflow records it at its end; `lane` is "service/environment". */
function finished(
  lane: string,
  id: string,
  outcome: EndStage,
  times: { finishedAt: string; committedAt?: string; rollbackStartedAt?: string },
): ReleaseRecord {
  const [service, environment] = lane.split('/');
  const finishedAt = new Date(times.finishedAt);
  return {
    releaseId: `${service}:${environment}:${id}`,
    service,
    environment,
    version: id,
    initiator: 'alice',
    strategy: 'canary',
    stage: outcome,
    attempt: 1,
    requestedAt: new Date(finishedAt.getTime() - 30 * MINUTE).toISOString(),
    finishedAt: finishedAt.toISOString(),
    outcome,
    ...(times.committedAt ? { committedAt: new Date(times.committedAt).toISOString(), commitSha: `sha-${id}` } : {}),
    ...(times.rollbackStartedAt ? { rollbackStartedAt: new Date(times.rollbackStartedAt).toISOString() } : {}),
  };
}

function succeeded(lane: string, id: string, times: { committedAt?: string; finishedAt: string }): ReleaseRecord {
  return finished(lane, id, 'Succeeded', times);
}

function rolledBack(lane: string, id: string, times: { rollbackStartedAt: string; finishedAt: string }): ReleaseRecord {
  return finished(lane, id, 'RolledBack', times);
}

/** Compensation failed: a person had to repair the service, and the next success marks the repair. */
function failed(lane: string, id: string, times: { finishedAt: string }): ReleaseRecord {
  return finished(lane, id, 'Failed', times);
}

/**
 * The hand-built history every test reads. Times are UTC; the comments say what each release
 * contributes inside the window [Nov 1, Nov 5).
 */
const RELEASES: ReleaseRecord[] = [
  // checkout/production: 5 successes (lead times 3h, 1h, 2h, 4h, and one without a commit time),
  // a rollback restored in 20m, a failure repaired by the next success 90m later.
  succeeded('checkout/production', 'old', { committedAt: '2026-10-27T00:00Z', finishedAt: '2026-10-31T12:00Z' }),
  succeeded('checkout/production', '1', { committedAt: '2026-10-31T22:00Z', finishedAt: '2026-11-01T01:00Z' }),
  succeeded('checkout/production', '2', { committedAt: '2026-11-01T10:00Z', finishedAt: '2026-11-01T11:00Z' }),
  succeeded('checkout/production', '3', { committedAt: '2026-11-02T00:00Z', finishedAt: '2026-11-02T02:00Z' }),
  succeeded('checkout/production', '4', { committedAt: '2026-11-03T00:00Z', finishedAt: '2026-11-03T04:00Z' }),
  rolledBack('checkout/production', '5', { rollbackStartedAt: '2026-11-03T10:00Z', finishedAt: '2026-11-03T10:20Z' }),
  failed('checkout/production', '6', { finishedAt: '2026-11-04T00:00Z' }),
  succeeded('checkout/production', '7', { finishedAt: '2026-11-04T01:30Z' }),
  // Finishes at the window's end, which the window excludes.
  succeeded('checkout/production', '8', { committedAt: '2026-11-04T20:00Z', finishedAt: '2026-11-05T00:00Z' }),

  // checkout/staging: one success (6h lead time), one failure nothing in staging has repaired.
  succeeded('checkout/staging', '1', { committedAt: '2026-11-02T00:00Z', finishedAt: '2026-11-02T06:00Z' }),
  failed('checkout/staging', '2', { finishedAt: '2026-11-04T12:00Z' }),

  // search/production: successes with 30h and 12h 30m lead times, a rollback restored in 2h. Its
  // success at 00:30 on Nov 4 falls between checkout's failure and checkout's repair.
  succeeded('search/production', '1', { committedAt: '2026-11-01T00:00Z', finishedAt: '2026-11-02T06:00Z' }),
  rolledBack('search/production', '2', { rollbackStartedAt: '2026-11-03T00:00Z', finishedAt: '2026-11-03T02:00Z' }),
  succeeded('search/production', '3', { committedAt: '2026-11-03T12:00Z', finishedAt: '2026-11-04T00:30Z' }),

  // billing/production: a failure late in the window, repaired 2h later, after the window.
  failed('billing/production', '1', { finishedAt: '2026-11-04T23:00Z' }),
  succeeded('billing/production', '2', { committedAt: '2026-11-04T22:00Z', finishedAt: '2026-11-05T01:00Z' }),
];

/** A release still shifting traffic: it has finished nothing, so no metric may count it. */
const RUNNING: ReleaseRecord = {
  ...succeeded('checkout/production', '9', { committedAt: '2026-11-04T08:00Z', finishedAt: '2026-11-04T10:00Z' }),
  stage: 'Shifting',
  outcome: undefined,
  finishedAt: undefined,
};

beforeAll(async () => {
  database = await createTestDatabase('tollgate_dora');
  db = database.db;
  await migrateToLatest(db);
  for (const release of [...RELEASES, RUNNING]) {
    const at = release.finishedAt ?? release.requestedAt;
    await appendToAuditLog(db, {
      release,
      events: [{ seq: 0, at, stage: release.stage, kind: 'stage', actor: 'tollgate', message: release.stage }],
    });
  }
});

afterAll(async () => {
  await database?.drop();
});

describe('delivery metrics of one lane', () => {
  const checkoutProduction = () =>
    deliveryMetrics(db, { service: 'checkout', environment: 'production', since, until });

  it('counts the succeeded releases that finished in the window, per day', async () => {
    const { overall } = await checkoutProduction();

    expect(overall.deploymentFrequency).toEqual({ deployments: 5, perDay: 1.25, band: 'elite' });
  });

  it('measures lead time from commit to finish: median and p90 of the releases with a commit time', async () => {
    const { overall } = await checkoutProduction();

    // 1h, 2h, 3h, 4h: the median lies halfway between 2h and 3h, the p90 70% of the way from 3h to 4h.
    expect(overall.leadTimeForChanges).toEqual({
      medianMs: 2.5 * HOUR,
      p90Ms: 3 * HOUR + 42 * MINUTE,
      measured: 4,
      withoutCommitTime: 1,
      band: 'elite',
    });
  });

  it('counts a rolled-back release as a failed change and its rollback time as time to restore', async () => {
    const { overall } = await checkoutProduction();

    expect(overall.changeFailureRate).toEqual({ rate: 2 / 7, failed: 2, finished: 7, band: 'medium' });
    // The rollback took 20m; the failure was repaired in 90m: the median is 55m.
    expect(overall.timeToRestore).toEqual({ medianMs: 55 * MINUTE, restored: 2, unrestored: 0, band: 'elite' });
  });

  it('measures a failed release until the next success of its own lane, not of another service', async () => {
    const { overall } = await deliveryMetrics(db, {
      service: 'checkout',
      environment: 'production',
      since: new Date('2026-11-03T12:00:00Z'),
      until,
    });

    // Only the failure at 00:00 and its repair at 01:30 are in this window; search's success at 00:30 is not a repair.
    expect(overall.timeToRestore).toEqual({ medianMs: 90 * MINUTE, restored: 1, unrestored: 0, band: 'high' });
  });

  it('counts a failure nobody has repaired yet as unrestored, without a restore time', async () => {
    const { overall } = await deliveryMetrics(db, { service: 'checkout', environment: 'staging', since, until });

    // checkout/production succeeded after the staging failure; that does not repair staging.
    expect(overall.timeToRestore).toEqual({ medianMs: null, restored: 0, unrestored: 1, band: null });
    expect(overall.changeFailureRate).toEqual({ rate: 0.5, failed: 1, finished: 2, band: 'low' });
  });

  it('counts the repair of a failure in the window even when the repair lands after it', async () => {
    const { overall } = await deliveryMetrics(db, { service: 'billing', since, until });

    expect(overall.timeToRestore).toEqual({ medianMs: 2 * HOUR, restored: 1, unrestored: 0, band: 'high' });
    // The repair itself finished after the window, so it is not one of the window's deployments.
    expect(overall.deploymentFrequency).toEqual({ deployments: 0, perDay: 0, band: 'low' });
    expect(overall.leadTimeForChanges.medianMs).toBeNull();
  });

  it('leaves out releases that finished before or at the end of the window', async () => {
    const { overall } = await deliveryMetrics(db, {
      service: 'checkout',
      environment: 'production',
      since: new Date('2026-11-01T00:00:00Z'),
      until: new Date('2026-11-02T00:00:00Z'),
    });

    // Releases 1 and 2 only: not "old" (Oct 31), not 3 (Nov 2, 02:00).
    expect(overall.deploymentFrequency).toEqual({ deployments: 2, perDay: 2, band: 'elite' });
    expect(overall.leadTimeForChanges).toMatchObject({ medianMs: 2 * HOUR, measured: 2 });
    expect(overall.changeFailureRate).toMatchObject({ rate: 0, finished: 2, band: 'elite' });
  });
});

describe('delivery metrics across lanes', () => {
  it('adds up every lane when no service is given, and breaks the figures down by lane', async () => {
    const report = await deliveryMetrics(db, { since, until });

    expect(report.window).toEqual({ since: since.toISOString(), until: until.toISOString(), days: 4 });
    expect(report.filter).toEqual({});
    expect(report.overall).toEqual({
      deploymentFrequency: { deployments: 8, perDay: 2, band: 'elite' },
      // 1h, 2h, 3h, 4h, 6h, 12h 30m, 30h
      leadTimeForChanges: {
        medianMs: 4 * HOUR,
        p90Ms: 19 * HOUR + 30 * MINUTE,
        measured: 7,
        withoutCommitTime: 1,
        band: 'elite',
      },
      changeFailureRate: { rate: 5 / 13, failed: 5, finished: 13, band: 'medium' },
      // 20m, 90m, 2h, 2h
      timeToRestore: { medianMs: 105 * MINUTE, restored: 4, unrestored: 1, band: 'high' },
    });
    expect(report.byLane.map((lane) => `${lane.service}/${lane.environment}`)).toEqual([
      'billing/production',
      'checkout/production',
      'checkout/staging',
      'search/production',
    ]);
    const search = required(
      report.byLane.find((lane) => lane.service === 'search'),
      'search lane',
    );
    expect(search.deploymentFrequency).toEqual({ deployments: 2, perDay: 0.5, band: 'high' });
    expect(search.leadTimeForChanges).toMatchObject({ medianMs: 21 * HOUR + 15 * MINUTE, measured: 2, band: 'elite' });
    expect(search.changeFailureRate).toMatchObject({ rate: 1 / 3, failed: 1, finished: 3 });
    expect(search.timeToRestore).toMatchObject({ medianMs: 2 * HOUR, restored: 1 });
  });

  it('keeps to one service, across its environments, when a service is given', async () => {
    const report = await deliveryMetrics(db, { service: 'checkout', since, until });

    expect(report.filter).toEqual({ service: 'checkout' });
    expect(report.byLane.map((lane) => lane.environment)).toEqual(['production', 'staging']);
    expect(report.overall).toEqual({
      deploymentFrequency: { deployments: 6, perDay: 1.5, band: 'elite' },
      // 1h, 2h, 3h, 4h, 6h
      leadTimeForChanges: {
        medianMs: 3 * HOUR,
        p90Ms: 5 * HOUR + 12 * MINUTE,
        measured: 5,
        withoutCommitTime: 1,
        band: 'elite',
      },
      changeFailureRate: { rate: 3 / 9, failed: 3, finished: 9, band: 'medium' },
      timeToRestore: { medianMs: 55 * MINUTE, restored: 2, unrestored: 1, band: 'elite' },
    });
  });

  it('keeps to one environment across services when only an environment is given', async () => {
    const report = await deliveryMetrics(db, { environment: 'staging', since, until });

    expect(report.byLane.map((lane) => lane.service)).toEqual(['checkout']);
    expect(report.overall.deploymentFrequency.deployments).toBe(1);
  });

  it('gives nulls, not NaN, when no release finished in the window', async () => {
    const report = await deliveryMetrics(db, {
      since: new Date('2020-01-01T00:00:00Z'),
      until: new Date('2020-02-01T00:00:00Z'),
    });

    expect(report.byLane).toEqual([]);
    expect(report.overall).toEqual({
      deploymentFrequency: { deployments: 0, perDay: 0, band: 'low' },
      leadTimeForChanges: { medianMs: null, p90Ms: null, measured: 0, withoutCommitTime: 0, band: null },
      changeFailureRate: { rate: null, failed: 0, finished: 0, band: null },
      timeToRestore: { medianMs: null, restored: 0, unrestored: 0, band: null },
    });
    expect(renderDeliveryMetrics(report)).not.toMatch(/NaN|Infinity|null|undefined/);
  });

  it('gives nulls for a service it has never seen', async () => {
    const report = await deliveryMetrics(db, { service: 'no-such-service', since, until });

    expect(report.overall.changeFailureRate.rate).toBeNull();
    expect(report.overall.leadTimeForChanges.medianMs).toBeNull();
    expect(report.overall.timeToRestore.medianMs).toBeNull();
  });

  it('refuses a window that ends before it starts', async () => {
    await expect(deliveryMetrics(db, { since: until, until: since })).rejects.toThrow(RangeError);
  });

  it('renders the overall figures and one line per lane for a terminal', async () => {
    const text = renderDeliveryMetrics(await deliveryMetrics(db, { service: 'checkout', since, until }));

    expect(text).toContain('Delivery metrics for checkout, 2026-11-01 00:00Z to 2026-11-05 00:00Z (4 days)');
    expect(text).toMatch(/Deployment frequency\s+1\.5 per day\s+elite\s+6 successful releases/);
    expect(text).toMatch(/Lead time for changes\s+median 3h, p90 5h 12m\s+elite\s+5 releases measured, 1 without a/);
    expect(text).toMatch(/Change failure rate\s+33\.3%\s+medium\s+3 of 9 finished releases/);
    expect(text).toMatch(/Time to restore\s+median 55m\s+elite\s+2 restores, 1 failed and not yet fixed/);
    expect(text).toMatch(
      /checkout\s+production\s+1\.25 \(elite\)\s+2h 30m \(elite\)\s+28\.6% \(medium\)\s+55m \(elite\)$/m,
    );
    expect(text).toMatch(/checkout\s+staging\s+0\.25 \(high\)\s+6h \(elite\)\s+50% \(low\)\s+-$/m);
  });
});

describe('DORA performance bands', () => {
  it('grades deployment frequency: multiple a day is elite, at least weekly high, at least monthly medium', () => {
    expect(deploymentFrequencyBand(3)).toBe('elite');
    expect(deploymentFrequencyBand(1)).toBe('high');
    expect(deploymentFrequencyBand(1 / 7)).toBe('high');
    expect(deploymentFrequencyBand(1 / 8)).toBe('medium');
    expect(deploymentFrequencyBand(1 / 30)).toBe('medium');
    expect(deploymentFrequencyBand(1 / 31)).toBe('low');
  });

  it('grades lead time: under a day elite, under a week high, under a month medium', () => {
    expect(leadTimeBand(DAY - 1)).toBe('elite');
    expect(leadTimeBand(DAY)).toBe('high');
    expect(leadTimeBand(7 * DAY)).toBe('medium');
    expect(leadTimeBand(30 * DAY)).toBe('low');
  });

  it('grades change failure rate: up to 15% elite, up to 45% medium, beyond low', () => {
    expect(changeFailureRateBand(0.15)).toBe('elite');
    expect(changeFailureRateBand(0.16)).toBe('medium');
    expect(changeFailureRateBand(0.45)).toBe('medium');
    expect(changeFailureRateBand(0.46)).toBe('low');
  });

  it('grades time to restore: under an hour elite, under a day high, under a week medium', () => {
    expect(timeToRestoreBand(HOUR - 1)).toBe('elite');
    expect(timeToRestoreBand(HOUR)).toBe('high');
    expect(timeToRestoreBand(DAY)).toBe('medium');
    expect(timeToRestoreBand(7 * DAY)).toBe('low');
  });
});
