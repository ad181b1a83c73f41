import type { Knex } from 'knex';

/**
 * The four DORA metrics, read from the audit log. A release is one change: it counts in the window
 * in which it finished, whatever its outcome.
 *
 * - deployment frequency: Succeeded releases per day of the window;
 * - lead time for changes: commit -> Succeeded release finished (releases without a commit time
 *   are counted, not measured);
 * - change failure rate: (RolledBack + Failed) / finished releases;
 * - time to restore: RolledBack -> from the start of the rollback to its end; Failed (compensation
 *   failed and a person repaired the service) -> from the failure to the next Succeeded release of
 *   the same service and environment, which may land after the window.
 */

export type PerformanceBand = 'elite' | 'high' | 'medium' | 'low';

export interface DeliveryMetricsQuery {
  service?: string;
  environment?: string;
  since: Date;
  /** Exclusive; now when omitted. */
  until?: Date;
}

export interface DeploymentFrequency {
  deployments: number;
  perDay: number;
  band: PerformanceBand;
}

export interface LeadTimeForChanges {
  medianMs: number | null;
  p90Ms: number | null;
  /** Succeeded releases with a commit time: the ones the median and p90 are taken over. */
  measured: number;
  /** Succeeded releases whose spec gave no commit time, so they could not be measured. */
  withoutCommitTime: number;
  band: PerformanceBand | null;
}

export interface ChangeFailureRate {
  /** 0..1; null when nothing finished in the window. */
  rate: number | null;
  failed: number;
  finished: number;
  band: PerformanceBand | null;
}

export interface TimeToRestore {
  medianMs: number | null;
  /** Failures with a measured restore time. */
  restored: number;
  /** Failed releases that no later release has repaired yet. */
  unrestored: number;
  band: PerformanceBand | null;
}

export interface DeliveryMetrics {
  deploymentFrequency: DeploymentFrequency;
  leadTimeForChanges: LeadTimeForChanges;
  changeFailureRate: ChangeFailureRate;
  timeToRestore: TimeToRestore;
}

/** The metrics of one lane: one service in one environment. */
export interface LaneDeliveryMetrics extends DeliveryMetrics {
  service: string;
  environment: string;
}

export interface DeliveryMetricsReport {
  window: { since: string; until: string; days: number };
  filter: { service?: string; environment?: string };
  overall: DeliveryMetrics;
  /** One entry per service+environment that finished a release in the window, by service then environment. */
  byLane: LaneDeliveryMetrics[];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
const MONTH_MS = 30 * DAY_MS;

/*
 * Performance bands, from the table "Aspects of software delivery performance" of the 2019
 * Accelerate State of DevOps report (DORA; Forsgren, Humble, Kim et al.), the edition that gives
 * ranges for all four bands of all four metrics. Where its ranges overlap or leave a gap, the
 * value gets the best band whose range it fits, and gaps are closed as noted.
 *
 *   deployment frequency  elite: on demand, multiple per day (> 1/day) | high: once per day to once
 *                         per week (>= 1/week) | medium: once per week to once per month (>= 1/30 days)
 *                         | low: less often
 *   lead time (median)    elite: < 1 day | high: < 1 week | medium: < 1 month (30 days) | low: longer
 *   change failure rate   elite: 0-15% (the report gives 0-15% to elite, high and medium alike, so
 *                         the rate alone earns elite) | medium: 16-45% (the gap between those and
 *                         low; the DORA team's Four Keys dashboard buckets it the same way)
 *                         | low: 46% and above
 *   time to restore       elite: < 1 hour | high: < 1 day | medium: < 1 week (the report says
 *     (median)            "less than one day" for medium too; the 2021 report's "one day to one
 *                         week" closes the gap) | low: a week or more
 */

export function deploymentFrequencyBand(perDay: number): PerformanceBand {
  if (perDay > 1) return 'elite';
  if (perDay >= 1 / 7) return 'high';
  if (perDay >= 1 / 30) return 'medium';
  return 'low';
}

export function leadTimeBand(medianMs: number): PerformanceBand {
  if (medianMs < DAY_MS) return 'elite';
  if (medianMs < WEEK_MS) return 'high';
  if (medianMs < MONTH_MS) return 'medium';
  return 'low';
}

export function changeFailureRateBand(rate: number): PerformanceBand {
  if (rate <= 0.15) return 'elite';
  if (rate < 0.46) return 'medium';
  return 'low';
}

export function timeToRestoreBand(medianMs: number): PerformanceBand {
  if (medianMs < HOUR_MS) return 'elite';
  if (medianMs < DAY_MS) return 'high';
  if (medianMs < WEEK_MS) return 'medium';
  return 'low';
}

/** One row of the metrics query: a lane, or the whole selection when `is_overall`. */
interface MetricsSqlRow {
  service: string | null;
  environment: string | null;
  is_overall: boolean;
  finished: number;
  deployments: number;
  failed_changes: number;
  lead_median_ms: number | null;
  lead_p90_ms: number | null;
  lead_measured: number;
  without_commit_time: number;
  restore_median_ms: number | null;
  restored: number;
  unrestored: number;
}

/*
 * One pass over the releases that finished in the window: each row carries its own lead time and
 * restore time (null where they do not apply, and ordered-set aggregates skip nulls), and the
 * grouping sets give every lane and the overall total from the same rows.
 */
const METRICS_SQL = (filters: string) => `
  with finished as (
    select
      r.service,
      r.environment,
      r.outcome,
      r.committed_at,
      (case when r.outcome = 'Succeeded' then extract(epoch from r.finished_at - r.committed_at) * 1000 end)::float8
        as lead_ms,
      (case r.outcome
        when 'RolledBack' then extract(epoch from r.finished_at - r.rollback_started_at) * 1000
        when 'Failed' then extract(epoch from fix.finished_at - r.finished_at) * 1000
      end)::float8 as restore_ms
    from releases r
    left join lateral (
      select min(s.finished_at) as finished_at
      from releases s
      where r.outcome = 'Failed'
        and s.service = r.service
        and s.environment = r.environment
        and s.outcome = 'Succeeded'
        and s.finished_at > r.finished_at
    ) fix on true
    where r.outcome is not null and r.finished_at >= ? and r.finished_at < ? ${filters}
  )
  select
    service,
    environment,
    grouping(service, environment) <> 0 as is_overall,
    count(*)::int as finished,
    (count(*) filter (where outcome = 'Succeeded'))::int as deployments,
    (count(*) filter (where outcome in ('RolledBack', 'Failed')))::int as failed_changes,
    percentile_cont(0.5) within group (order by lead_ms) as lead_median_ms,
    percentile_cont(0.9) within group (order by lead_ms) as lead_p90_ms,
    count(lead_ms)::int as lead_measured,
    (count(*) filter (where outcome = 'Succeeded' and committed_at is null))::int as without_commit_time,
    percentile_cont(0.5) within group (order by restore_ms) as restore_median_ms,
    count(restore_ms)::int as restored,
    (count(*) filter (where outcome = 'Failed' and restore_ms is null))::int as unrestored
  from finished
  group by grouping sets ((service, environment), ())
  order by is_overall desc, service, environment
`;

/** The four DORA metrics of the releases that finished in [since, until), overall and per lane. */
export async function deliveryMetrics(db: Knex, query: DeliveryMetricsQuery): Promise<DeliveryMetricsReport> {
  const until = query.until ?? new Date();
  const windowMs = until.getTime() - query.since.getTime();
  if (!(windowMs > 0)) {
    throw new RangeError(`the window must end after it starts: ${query.since.toISOString()} .. ${until.toISOString()}`);
  }
  const days = windowMs / DAY_MS;

  const filters: string[] = [];
  const bindings: (string | Date)[] = [query.since, until];
  if (query.service !== undefined) {
    filters.push('and r.service = ?');
    bindings.push(query.service);
  }
  if (query.environment !== undefined) {
    filters.push('and r.environment = ?');
    bindings.push(query.environment);
  }
  const result = await db.raw<{ rows: MetricsSqlRow[] }>(METRICS_SQL(filters.join(' ')), bindings);

  const overallRow = result.rows.find((row) => row.is_overall);
  return {
    window: { since: query.since.toISOString(), until: until.toISOString(), days },
    filter: {
      ...(query.service !== undefined ? { service: query.service } : {}),
      ...(query.environment !== undefined ? { environment: query.environment } : {}),
    },
    overall: overallRow ? metricsOf(overallRow, days) : metricsOf(NOTHING_FINISHED, days),
    byLane: result.rows
      .filter((row) => !row.is_overall)
      .map((row) => ({ service: row.service ?? '', environment: row.environment ?? '', ...metricsOf(row, days) })),
  };
}

/** PostgreSQL returns the empty grouping set even for no rows; this stands in should it ever not. */
const NOTHING_FINISHED: MetricsSqlRow = {
  service: null,
  environment: null,
  is_overall: true,
  finished: 0,
  deployments: 0,
  failed_changes: 0,
  lead_median_ms: null,
  lead_p90_ms: null,
  lead_measured: 0,
  without_commit_time: 0,
  restore_median_ms: null,
  restored: 0,
  unrestored: 0,
};

function metricsOf(row: MetricsSqlRow, days: number): DeliveryMetrics {
  const perDay = row.deployments / days;
  const leadMedianMs = roundedMillis(row.lead_median_ms);
  const restoreMedianMs = roundedMillis(row.restore_median_ms);
  const rate = row.finished > 0 ? row.failed_changes / row.finished : null;
  return {
    deploymentFrequency: { deployments: row.deployments, perDay, band: deploymentFrequencyBand(perDay) },
    leadTimeForChanges: {
      medianMs: leadMedianMs,
      p90Ms: roundedMillis(row.lead_p90_ms),
      measured: row.lead_measured,
      withoutCommitTime: row.without_commit_time,
      band: leadMedianMs === null ? null : leadTimeBand(leadMedianMs),
    },
    changeFailureRate: {
      rate,
      failed: row.failed_changes,
      finished: row.finished,
      band: rate === null ? null : changeFailureRateBand(rate),
    },
    timeToRestore: {
      medianMs: restoreMedianMs,
      restored: row.restored,
      unrestored: row.unrestored,
      band: restoreMedianMs === null ? null : timeToRestoreBand(restoreMedianMs),
    },
  };
}

/** Timestamps are microseconds; people and thresholds need whole milliseconds. */
function roundedMillis(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}
