import autocannon from 'autocannon';

/** One request that did not get a 2xx: when, and what came back. */
export interface FailedRequest {
  at: number;
  status?: number;
  /** The version that answered (x-version), when one did. */
  version?: string;
  error?: string;
}

export interface LoadReport {
  sent: number;
  ok: number;
  failed: FailedRequest[];
  /** Answers per version, as the x-version header says. */
  byVersion: Record<string, { ok: number; failed: number }>;
  startedAt: number;
  stoppedAt?: number;
}

export interface LoadRun {
  /** The report so far; live, for views that redraw. */
  report(): LoadReport;
  /** Failures and answers in the last `seconds`, per version, for an error rate that moves. */
  recent(seconds: number): Record<string, { ok: number; failed: number }>;
  stop(): Promise<LoadReport>;
}

/** Failures kept in full; more are counted, not stored. */
const FAILURE_LIMIT = 50_000;

/**
 * Steady load through a URL (HAProxy's frontend) at `rate` requests a second, with autocannon.
 * Every answer is attributed to the version that gave it, so a test can tell a failure caused by
 * moving traffic from one the faulty version produced on its own.
 */
export function startLoad(options: { url: string; rate: number; connections?: number; maxSeconds?: number }): LoadRun {
  const report: LoadReport = { sent: 0, ok: 0, failed: [], byVersion: {}, startedAt: Date.now() };
  const window: { at: number; version: string; ok: boolean }[] = [];
  const count = (version: string, ok: boolean) => {
    const entry = (report.byVersion[version] ??= { ok: 0, failed: 0 });
    if (ok) entry.ok++;
    else entry.failed++;
    window.push({ at: Date.now(), version, ok });
    if (window.length > 100_000) window.splice(0, window.length - 50_000);
  };
  const instance = autocannon({
    url: options.url,
    connections: options.connections ?? 8,
    overallRate: options.rate,
    // Bounded: a forgotten load stops by itself.
    duration: options.maxSeconds ?? 900,
    timeout: 5,
    requests: [
      {
        method: 'GET',
        path: '/',
        onResponse: (status, _body, _context, headers) => {
          report.sent++;
          const version = headers['x-version'] ?? 'none';
          const ok = status >= 200 && status < 300;
          if (ok) report.ok++;
          else if (report.failed.length < FAILURE_LIMIT) report.failed.push({ at: Date.now(), status, version });
          count(version, ok);
        },
      },
    ],
  });
  instance.on('reqError', (err: Error) => {
    report.sent++;
    if (report.failed.length < FAILURE_LIMIT) report.failed.push({ at: Date.now(), error: err.message });
    count('none', false);
  });
  const done = new Promise<void>((resolve) => instance.once('done', () => resolve()));
  return {
    report: () => report,
    recent: (seconds) => {
      const since = Date.now() - seconds * 1000;
      const out: Record<string, { ok: number; failed: number }> = {};
      for (const entry of window) {
        if (entry.at < since) continue;
        const bucket = (out[entry.version] ??= { ok: 0, failed: 0 });
        if (entry.ok) bucket.ok++;
        else bucket.failed++;
      }
      return out;
    },
    stop: async () => {
      instance.stop();
      await done;
      report.stoppedAt = Date.now();
      return report;
    },
  };
}
