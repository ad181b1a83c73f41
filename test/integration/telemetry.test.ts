import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createAppServer } from '../../src/app/app-server';
import { migrateToLatest } from '../../src/audit/database';
import { freePort } from '../../src/devstack/free-port';
import { createReleaseMetricsRegistry } from '../../src/telemetry/release-metrics';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { execSpec, Journal } from '../support/exec-spec';
import { connectTestClient } from '../support/worker';
import { eventually } from '../support/eventually';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const DASHBOARD = path.join(__dirname, '..', '..', 'deploy', 'grafana', 'dashboards', 'tollgate.json');

let database: TestDatabase;
let journal: Journal;
let worker: WorkerProcess;
let metricsPort: number;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  journal = new Journal();
});
afterAll(async () => {
  await worker?.stop();
  await database?.drop();
  journal?.remove();
});

/** Metric names a dashboard query uses (histogram_quantile(..., x_bucket) → x_bucket). */
function dashboardMetrics(prefix: string): string[] {
  const text = fs.readFileSync(DASHBOARD, 'utf8');
  return [...new Set([...text.matchAll(new RegExp(`\\b(${prefix}[a-z_]+)`, 'g'))].map((match) => match[1]))];
}

describe('after a release', () => {
  it('the app and the worker expose every metric the Grafana dashboard reads, with the release counted', async () => {
    const taskQueue = `telemetry-${Date.now()}`;
    metricsPort = await freePort();
    worker = await startWorkerProcess({
      taskQueue,
      databaseUrl: database.url,
      env: { TOLLGATE_SDK_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` },
    });
    const { releases, close } = await connectTestClient(taskQueue);
    const spec = execSpec(journal, {
      service: 'observed',
      environment: 'production',
      steps: [{ setWeight: 10 }, { approval: { from: ['bob'] } }, { setWeight: 100 }],
    });
    const { releaseId } = await releases.start(spec, { id: 'alice', via: 'cli' });
    await eventually('approval', async () => ((await releases.status(releaseId)).pendingApproval ? true : undefined));
    await releases.approve(releaseId, { approver: { id: 'bob', via: 'cli' } });
    expect(await releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
    await close();

    const app = createAppServer({ metrics: createReleaseMetricsRegistry(database.db) }, pino({ level: 'silent' }));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = app.address() as { port: number };
      const tollgateMetrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(tollgateMetrics).toContain(
        'tollgate_releases_started_total{service="observed",environment="production"} 1',
      );
      expect(tollgateMetrics).toContain(
        'tollgate_releases_finished_total{service="observed",environment="production",outcome="Succeeded"} 1',
      );
      expect(tollgateMetrics).toMatch(/tollgate_approval_wait_seconds_count\{decision="approved"\} 1/);
      expect(tollgateMetrics).toMatch(/tollgate_stage_duration_seconds_count\{stage="Shifting"\} 1/);
      expect(tollgateMetrics).toMatch(
        /tollgate_dora_deployment_frequency_per_day\{service="observed",environment="production"\} [0-9.]+/,
      );
      for (const name of dashboardMetrics('tollgate_')) expect(tollgateMetrics).toContain(name);

      const sdkMetrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      for (const name of dashboardMetrics('temporal_')) expect(sdkMetrics).toContain(name);
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe('ok\n');
    } finally {
      app.close();
    }
  });
});
