import { formatMillis } from '../domain/duration';
import type { DeliveryMetrics, DeliveryMetricsReport, PerformanceBand } from './dora';
import type { ReleaseHistoryRow } from './history';
import type { PipelineDeliveryMetrics } from './pipeline-dora';

/** What a cell shows when there is nothing to measure, so a blank never reads as zero. */
const NO_VALUE = '-';
const COLUMN_GAP = '  ';

/** The release history as a terminal table, newest first as given. */
export function renderHistory(rows: readonly ReleaseHistoryRow[]): string {
  if (rows.length === 0) return 'No releases found.';
  return renderTable(
    ['RELEASE', 'ENVIRONMENT', 'VERSION', 'STAGE', 'INITIATOR', 'REQUESTED', 'DURATION', 'REASON'],
    rows.map((row) => [
      row.releaseId,
      row.environment,
      row.version,
      // A finished release's stage is its outcome; a running one shows where it is.
      row.stage,
      row.initiator,
      formatTime(row.requestedAt),
      formatDuration(row.durationMs ?? null),
      row.reason ?? '',
    ]),
  );
}

/** The DORA metrics: the overall figures with their detail, then one line per lane. */
export function renderDeliveryMetrics(report: DeliveryMetricsReport): string {
  const { window, filter, overall } = report;
  const scope = `${filter.service ?? 'all services'}${filter.environment ? ` in ${filter.environment}` : ''}`;
  const title =
    `Delivery metrics for ${scope}, ` +
    `${formatTime(window.since)} to ${formatTime(window.until)} (${formatNumber(window.days)} days)`;

  const summary = renderTable(['METRIC', 'VALUE', 'BAND', 'FROM'], summaryRows(overall));
  if (report.byLane.length === 0) return `${title}\n\n${summary}`;

  const lanes = renderTable(
    ['SERVICE', 'ENVIRONMENT', 'DEPLOYS/DAY', 'LEAD TIME', 'CHANGE FAILURE RATE', 'TIME TO RESTORE'],
    report.byLane.map((lane) => [lane.service, lane.environment, ...laneCells(lane)]),
  );
  return `${title}\n\n${summary}\n\n${lanes}`;
}

/** `tollgate dora --pipeline`: lead time to production, deploys per environment, failures in production. */
export function renderPipelineDeliveryMetrics(report: PipelineDeliveryMetrics): string {
  const { window, leadTimeToProduction: lead, changeFailureRate: failures, timeToRestore: restore } = report;
  const title =
    `Pipeline delivery metrics for ${report.service}, ` +
    `${formatTime(window.since)} to ${formatTime(window.until)} (${formatNumber(window.days)} days)`;
  const where = report.failuresIn === 'production' ? report.production : 'every environment';
  const summary = renderTable(
    ['METRIC', 'VALUE', 'BAND', 'FROM'],
    [
      [
        `Lead time (commit to ${report.production})`,
        lead.medianMs === null
          ? NO_VALUE
          : `median ${formatDuration(lead.medianMs)}, p90 ${formatDuration(lead.p90Ms)}`,
        lead.band ?? NO_VALUE,
        `${plural(lead.measured, 'release')} measured`,
      ],
      [
        `Change failure rate (${where})`,
        formatRate(failures.rate),
        failures.band ?? NO_VALUE,
        `${failures.failed} of ${plural(failures.finished, 'release')}`,
      ],
      [
        `Time to restore (${where})`,
        formatDuration(restore.medianMs),
        restore.band ?? NO_VALUE,
        plural(restore.restored, 'failure'),
      ],
    ],
  );
  const frequency = renderTable(
    ['ENVIRONMENT', 'DEPLOYS/DAY', 'SUCCESSFUL RELEASES'],
    report.deploymentFrequency.map(({ environment, frequency: f }) => [
      environment,
      withBand(formatNumber(f.perDay), f.band),
      String(f.deployments),
    ]),
  );
  return `${title}\n\n${summary}\n\n${frequency}`;
}

function summaryRows(metrics: DeliveryMetrics): string[][] {
  const { deploymentFrequency: frequency, leadTimeForChanges: leadTime, changeFailureRate: failures } = metrics;
  const { timeToRestore: restore } = metrics;
  const unmeasured = leadTime.withoutCommitTime > 0 ? `, ${leadTime.withoutCommitTime} without a commit time` : '';
  const unrestored = restore.unrestored > 0 ? `, ${restore.unrestored} failed and not yet fixed` : '';
  return [
    [
      'Deployment frequency',
      `${formatNumber(frequency.perDay)} per day`,
      frequency.band,
      plural(frequency.deployments, 'successful release'),
    ],
    [
      'Lead time for changes',
      leadTime.medianMs === null
        ? NO_VALUE
        : `median ${formatDuration(leadTime.medianMs)}, p90 ${formatDuration(leadTime.p90Ms)}`,
      leadTime.band ?? NO_VALUE,
      `${plural(leadTime.measured, 'release')} measured${unmeasured}`,
    ],
    [
      'Change failure rate',
      formatRate(failures.rate),
      failures.band ?? NO_VALUE,
      `${failures.failed} of ${plural(failures.finished, 'finished release')}`,
    ],
    [
      'Time to restore',
      restore.medianMs === null ? NO_VALUE : `median ${formatDuration(restore.medianMs)}`,
      restore.band ?? NO_VALUE,
      `${plural(restore.restored, 'restore')}${unrestored}`,
    ],
  ];
}

function laneCells(metrics: DeliveryMetrics): string[] {
  const { deploymentFrequency, leadTimeForChanges, changeFailureRate, timeToRestore } = metrics;
  return [
    withBand(formatNumber(deploymentFrequency.perDay), deploymentFrequency.band),
    withBand(formatDuration(leadTimeForChanges.medianMs), leadTimeForChanges.band),
    withBand(formatRate(changeFailureRate.rate), changeFailureRate.band),
    withBand(formatDuration(timeToRestore.medianMs), timeToRestore.band),
  ];
}

function withBand(value: string, band: PerformanceBand | null): string {
  return band === null ? NO_VALUE : `${value} (${band})`;
}

function formatDuration(millis: number | null): string {
  return millis === null ? NO_VALUE : formatMillis(millis);
}

/** Left-aligned columns sized to their widest cell; no trailing spaces. */
function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join(COLUMN_GAP)
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** "2026-11-20T10:00:00.000Z" -> "2026-11-20 10:00Z": to the minute, in UTC, as logs and Slack show it. */
function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z`;
}

/** Up to two decimals, no trailing zeros: 0.57, 2, 12.5. */
function formatNumber(value: number): string {
  return String(Number(value.toFixed(2)));
}

/** One decimal, so a rate just over a band's threshold does not print as the threshold itself. */
function formatRate(rate: number | null): string {
  return rate === null ? NO_VALUE : `${formatNumber(Number((rate * 100).toFixed(1)))}%`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
