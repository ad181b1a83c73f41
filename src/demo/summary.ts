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

/** The table printed at the end of the demo: one row per release. */
export function renderSummary(rows: DemoRow[]): string {
  const header = ['release', 'version', 'expected', 'outcome', 'took', 'requests', 'failed', 'why'];
  const body = rows.map((row) => [
    row.release,
    row.version,
    row.expected,
    row.outcome === row.expected ? `${row.outcome} ✓` : `${row.outcome} ✗`,
    `${row.seconds.toFixed(1)}s`,
    String(row.requests),
    String(row.failed),
    row.reason.length > 90 ? `${row.reason.slice(0, 87)}...` : row.reason,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ');
  return [line(header), widths.map((width) => '─'.repeat(width)).join('  '), ...body.map(line)].join('\n');
}
