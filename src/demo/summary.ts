import type { ReleaseStatus } from '../domain/release';
import { fitToWidth } from './fit-line';

export interface DemoRow {
  release: string;
  version: string;
  expected: string;
  outcome: string;
  seconds: number;
  requests: number;
  failed: number;
  reason: string;
}

/**
 * Why a release ended, in a few words: for one that rolled back on its analysis, the checks that
 * failed and what they saw (the counts of the verdict say less than the evidence).
 */
export function whyItEnded(status: Pick<ReleaseStatus, 'outcome' | 'lastAnalysis'>): string {
  const failed = status.lastAnalysis?.templates.filter((template) => template.verdict === 'Failed') ?? [];
  if (status.outcome?.stage === 'RolledBack' && failed.length > 0) {
    const checks = failed.map((template) => {
      const evidence = template.measurements.filter((m) => m.phase === 'Failed').at(-1)?.message;
      return `${template.template}${evidence ? ` (${evidence})` : ''}`;
    });
    return `failed check${checks.length === 1 ? '' : 's'}: ${checks.join('; ')}`;
  }
  return status.outcome?.reason ?? '';
}

/** The table printed at the end of the demo: one row per release. */
export function renderSummary(rows: DemoRow[]): string {
  const header = ['release', 'version', 'expected', 'outcome', 'took', 'requests', 'requests failed', 'why'];
  const body = rows.map((row) => [
    row.release,
    row.version,
    row.expected,
    row.outcome === row.expected ? `${row.outcome} ✓` : `${row.outcome} ✗`,
    `${row.seconds.toFixed(1)}s`,
    String(row.requests),
    String(row.failed),
    fitToWidth(row.reason, 90),
  ]);
  const width = (text: string) => [...text].length;
  const widths = header.map((title, column) => Math.max(width(title), ...body.map((cells) => width(cells[column]))));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column] - width(cell))))
      .join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
