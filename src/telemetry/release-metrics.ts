import type { Knex } from 'knex';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { deliveryMetrics, type LaneDeliveryMetrics } from '../audit/dora';

/**
 * Tollgate's own metrics, read from the audit log when Prometheus scrapes. Counting in the audit
 * log rather than in activities keeps them exact: an activity retried after a crash would count
 * twice, and with several workers every worker would count a share. Counts of rows that are never
 * deleted only grow, so each scrape resets the counters and counts them again from the rows.
 */
export const DELIVERY_WINDOW_DAYS = 30;

/** Upper bounds (seconds) for stage durations and approval waits: seconds to a day. */
const BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600];

interface Row {
  [key: string]: string | number | null;
}

export function createReleaseMetricsRegistry(db: Knex): Registry {
  const registry = new Registry();

  new Counter({
    name: 'tollgate_releases_started_total',
    help: 'Releases started, by service and environment.',
    labelNames: ['service', 'environment'],
    registers: [registry],
    async collect() {
      const rows: Row[] = await db('releases')
        .select('service', 'environment')
        .count({ count: '*' })
        .groupBy('service', 'environment');
      this.reset();
      for (const row of rows)
        this.inc({ service: String(row.service), environment: String(row.environment) }, Number(row.count));
    },
  });

  new Counter({
    name: 'tollgate_releases_finished_total',
    help: 'Releases that ended, by service, environment and outcome (Succeeded, RolledBack, Failed).',
    labelNames: ['service', 'environment', 'outcome'],
    registers: [registry],
    async collect() {
      const rows: Row[] = await db('releases')
        .whereNotNull('outcome')
        .select('service', 'environment', 'outcome')
        .count({ count: '*' })
        .groupBy('service', 'environment', 'outcome');
      this.reset();
      for (const row of rows) {
        this.inc(
          { service: String(row.service), environment: String(row.environment), outcome: String(row.outcome) },
          Number(row.count),
        );
      }
    },
  });

  new Gauge({
    name: 'tollgate_releases_running',
    help: 'Releases not yet ended, by service, environment and stage.',
    labelNames: ['service', 'environment', 'stage'],
    registers: [registry],
    async collect() {
      const rows: Row[] = await db('releases')
        .whereNull('outcome')
        .select('service', 'environment', 'stage')
        .count({ count: '*' })
        .groupBy('service', 'environment', 'stage');
      this.reset();
      for (const row of rows) {
        this.set(
          { service: String(row.service), environment: String(row.environment), stage: String(row.stage) },
          Number(row.count),
        );
      }
    },
  });

  new Counter({
    name: 'tollgate_backfill_rows_total',
    help: 'Rows rewritten by finished schema backfills, by service, environment and table.',
    labelNames: ['service', 'environment', 'table'],
    registers: [registry],
    async collect() {
      const { rows } = await db.raw<{ rows: Row[] }>(`
        SELECT r.service, r.environment, e.data->'backfill'->>'table' AS "table", SUM((e.data->'backfill'->>'rowsUpdated')::bigint) AS count
        FROM release_events e JOIN releases r USING (release_id)
        WHERE e.data->'backfill' IS NOT NULL
        GROUP BY 1, 2, 3`);
      this.reset();
      for (const row of rows)
        this.inc(
          { service: String(row.service), environment: String(row.environment), table: String(row.table) },
          Number(row.count),
        );
    },
  });

  // Stage durations: from each stage event to the next stage event of the same release.
  cumulativeHistogram(registry, db, {
    name: 'tollgate_stage_duration_seconds',
    help: 'Time releases spent in each stage.',
    label: 'stage',
    sql: `
      SELECT stage AS label, EXTRACT(EPOCH FROM (next_at - at)) AS seconds
      FROM (
        SELECT stage, at, LEAD(at) OVER (PARTITION BY release_id ORDER BY seq) AS next_at
        FROM release_events WHERE kind = 'stage'
      ) stages
      WHERE next_at IS NOT NULL`,
  });

  // Approval waits: from an approval step starting to the decision that ended it.
  cumulativeHistogram(registry, db, {
    name: 'tollgate_approval_wait_seconds',
    help: 'Time approval steps waited for a decision, by decision.',
    label: 'decision',
    sql: `
      SELECT a.decision AS label, EXTRACT(EPOCH FROM (a.at - s.at)) AS seconds
      FROM approvals a
      JOIN LATERAL (
        SELECT at FROM release_events e
        WHERE e.release_id = a.release_id AND e.kind = 'step' AND e.seq < a.seq AND e.message LIKE 'step %: approval%'
        ORDER BY e.seq DESC LIMIT 1
      ) s ON true`,
  });

  // One query fills all four delivery gauges. prom-client collects metrics concurrently, so each
  // gauge awaits the same in-flight query rather than running its own.
  let delivery: Promise<Awaited<ReturnType<typeof deliveryMetrics>>> | undefined;
  const latestDelivery = () => {
    delivery ??= deliveryMetrics(db, { since: new Date(Date.now() - DELIVERY_WINDOW_DAYS * 86_400_000) }).finally(
      () => {
        setImmediate(() => (delivery = undefined));
      },
    );
    return delivery;
  };
  const deliveryGauge = (name: string, help: string, value: (lane: LaneDeliveryMetrics) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['service', 'environment'],
      registers: [registry],
      async collect() {
        const report = await latestDelivery();
        this.reset();
        for (const lane of report.byLane) {
          const measured = value(lane);
          if (measured !== null) this.set({ service: lane.service, environment: lane.environment }, measured);
        }
      },
    });
  deliveryGauge(
    'tollgate_dora_deployment_frequency_per_day',
    `Succeeded releases per day over the last ${DELIVERY_WINDOW_DAYS} days.`,
    (lane) => lane.deploymentFrequency.perDay,
  );
  deliveryGauge(
    'tollgate_dora_lead_time_seconds',
    `Median time from commit to Succeeded release, last ${DELIVERY_WINDOW_DAYS} days.`,
    (lane) => (lane.leadTimeForChanges.medianMs === null ? null : lane.leadTimeForChanges.medianMs / 1000),
  );
  deliveryGauge(
    'tollgate_dora_change_failure_rate',
    `Share of finished releases that rolled back or failed, last ${DELIVERY_WINDOW_DAYS} days (0 to 1).`,
    (lane) => lane.changeFailureRate.rate,
  );
  deliveryGauge(
    'tollgate_dora_time_to_restore_seconds',
    `Median time to restore service after a failed release, last ${DELIVERY_WINDOW_DAYS} days.`,
    (lane) => (lane.timeToRestore.medianMs === null ? null : lane.timeToRestore.medianMs / 1000),
  );
  return registry;
}

/**
 * A histogram rebuilt from the audit log at each scrape: every duration observed again from SQL
 * (a few thousand rows; the audit log is not a hot path).
 */
function cumulativeHistogram(
  registry: Registry,
  db: Knex,
  options: { name: string; help: string; label: string; sql: string },
): void {
  new Histogram({
    name: options.name,
    help: options.help,
    labelNames: [options.label],
    buckets: BUCKETS,
    registers: [registry],
    async collect() {
      const { rows } = await db.raw<{ rows: { label: string; seconds: string | number }[] }>(options.sql);
      this.reset();
      for (const row of rows) this.observe({ [options.label]: row.label }, Number(row.seconds));
    },
  });
}
