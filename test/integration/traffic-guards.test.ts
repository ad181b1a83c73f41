import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { migrateToLatest } from '../../src/audit/database';
import { freePort } from '../../src/devstack/free-port';
import { startLoad } from '../../examples/load-generator/load';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { releaser, TrafficStack } from '../support/traffic-stack';
import { startTestWorker, type TestWorker } from '../support/worker';
import { eventually } from '../support/eventually';

/** What stops or holds a release before it can hurt: readiness, inconclusive evidence, errors, the error budget. */
let database: TestDatabase;
let tollgate: TestWorker;
let stack: TrafficStack;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  [tollgate, stack] = await Promise.all([
    startTestWorker({ db: database.db, taskQueue: `traffic-guards-${Date.now()}` }),
    TrafficStack.start(['guard-ready', 'guard-unsure', 'guard-blind', 'guard-refused', 'guard-budget']),
  ]);
});

afterAll(async () => {
  await tollgate?.stop();
  await stack?.stop();
  await database?.drop();
});

it('rolls back a canary that never becomes ready before any user request reaches it', async () => {
  await stack.bootstrap(tollgate.releases, 'guard-ready');
  const before = await stack.servers('guard-ready');
  const load = startLoad({ url: stack.haproxy.frontends['guard-ready'], rate: 50 });
  const spec = stack.spec({
    service: 'guard-ready',
    version: '9.9.9',
    readinessTimeout: '3s',
    steps: [{ setWeight: 10 }, { setWeight: 100 }],
  });
  const { releaseId } = await tollgate.releases.start(spec, releaser);
  const result = await tollgate.releases.result(releaseId);
  const report = await load.stop();

  expect(result.outcome).toBe('RolledBack');
  expect(result.reason).toMatch(
    /ready 9\.9\.9 did not become ready within 3s: 2 of 2 instances never answered \/healthz .*(answered 503|ECONNREFUSED)/,
  );
  expect(report.byVersion['9.9.9']).toBeUndefined();
  expect(report.failed).toEqual([]);
  expect(await stack.servers('guard-ready')).toEqual(before);
  expect(stack.runningInstances('guard-ready', '9.9.9')).toEqual([]);
  const status = await tollgate.releases.status(releaseId);
  expect(
    status.events.some(
      (event) => event.kind === 'step' && /traffic at/.test(event.message) && event.stage === 'Shifting',
    ),
  ).toBe(false);
});

it('holds the release and says why when Prometheus returns nothing or NaN, until a person decides', async () => {
  await stack.bootstrap(tollgate.releases, 'guard-unsure');
  const address = stack.prometheus.url;
  const spec = stack.spec({
    service: 'guard-unsure',
    version: '2.0.0',
    steps: [{ setWeight: 10 }, { analysis: { templates: ['nothing', 'nan'], duration: '3s' } }, { setWeight: 100 }],
    analysis: {
      nothing: {
        provider: 'prometheus',
        address,
        query: 'sum(up{service="{{service}}",version="no-such-version"})',
        successCondition: 'result == 1',
        interval: '1s',
        inconclusiveLimit: 1,
      },
      nan: {
        provider: 'prometheus',
        address,
        query: 'vector(0) / vector(0)',
        successCondition: 'result < 0.01',
        interval: '1s',
        inconclusiveLimit: 1,
      },
    },
  });
  const { releaseId } = await tollgate.releases.start(spec, releaser);
  const held = await eventually('the release to hold on inconclusive analysis', async () => {
    const status = await tollgate.releases.status(releaseId);
    return status.hold?.reason.includes('inconclusive') ? status : undefined;
  });
  expect(held.stage).toBe('Shifting');
  expect(held.weight).toBe(10);
  expect(held.hold?.reason).toMatch(/analysis inconclusive, waiting for a person to promote, extend or roll back/);
  expect(held.hold?.reason).toMatch(
    /nothing: Inconclusive .*no data: sum\(up\{service="guard-unsure",version="no-such-version"\}\) returned no series/,
  );
  expect(held.hold?.reason).toMatch(/nan: Inconclusive .*NaN/);

  await tollgate.releases.abort(releaseId, { actor: releaser, reason: 'no evidence, no release' });
  expect(await tollgate.releases.result(releaseId)).toMatchObject({
    outcome: 'RolledBack',
    reason: 'aborted by ci: no evidence, no release',
  });
});

it('never counts an analysis whose every measurement errored as a success', async () => {
  await stack.bootstrap(tollgate.releases, 'guard-blind');
  const closedPort = await freePort();
  const spec = stack.spec({
    service: 'guard-blind',
    version: '2.0.0',
    steps: [{ setWeight: 10 }, { analysis: { templates: ['unreachable'], duration: '3s' } }, { setWeight: 100 }],
    analysis: {
      unreachable: {
        provider: 'prometheus',
        address: `http://127.0.0.1:${closedPort}`,
        query: 'up',
        successCondition: 'result == 1',
        interval: '1s',
      },
    },
  });
  const { releaseId } = await tollgate.releases.start(spec, releaser);
  const result = await tollgate.releases.result(releaseId);
  expect(result.outcome).toBe('RolledBack');
  expect(result.reason).toMatch(
    /analysis error: unreachable: Error \(0 ok, 0 failed, 0 inconclusive, 3 errors of 3.*could not query Prometheus at http:\/\/127.0.0.1:\d+: ECONNREFUSED/,
  );
  expect((await tollgate.releases.status(releaseId)).weight).toBe(0);
});

describe('the error budget gate', () => {
  it('refuses to start a release while the service burns its budget too fast, and deploys nothing', async () => {
    const spec = stack.spec({
      service: 'guard-refused',
      version: '2.0.0',
      steps: [{ setWeight: 100 }],
      errorBudget: {
        address: stack.prometheus.url,
        errorRatioQuery: 'vector(0.05)',
        objective: 0.99,
        window: '1h',
        maxBurnRate: 2,
      },
    });
    const { releaseId } = await tollgate.releases.start(spec, releaser);
    const result = await tollgate.releases.result(releaseId);
    expect(result.outcome).toBe('Failed');
    expect(result.reason).toBe(
      'not started: error budget burning 5.0x over 1h (error ratio 5.00% against an objective of 99%; limit 2x)',
    );
    const stages = (await tollgate.releases.status(releaseId)).events
      .filter((event) => event.kind === 'stage')
      .map((event) => event.stage);
    expect(stages).toEqual(['Queued', 'Planning', 'Failed']);
    expect(stack.runningInstances('guard-refused', '2.0.0')).toEqual([]);
  });

  it('holds a running release at its next step while the burn rate is too high, with the reason shown, and goes on once it falls', async () => {
    // A metric the test controls, scraped by the real Prometheus like any service's.
    let errorRatio = 0;
    const exporter = http.createServer((_req, res) =>
      res.end(`# TYPE test_error_ratio gauge\ntest_error_ratio{service="guard-budget"} ${errorRatio}\n`),
    );
    await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
    const port = (exporter.address() as AddressInfo).port;
    fs.writeFileSync(
      path.join(stack.prometheus.targetsDir, 'budget-exporter.json'),
      JSON.stringify([{ targets: [`127.0.0.1:${port}`] }]),
    );
    try {
      await stack.bootstrap(tollgate.releases, 'guard-budget');
      const spec = stack.spec({
        service: 'guard-budget',
        version: '2.0.0',
        steps: [{ setWeight: 10 }, { pause: { duration: '5s' } }, { setWeight: 50 }, { setWeight: 100 }],
        errorBudget: {
          address: stack.prometheus.url,
          errorRatioQuery: 'max(test_error_ratio{service="{{service}}"})',
          objective: 0.999,
          maxBurnRate: 10,
          checkEvery: '1s',
        },
      });
      const { releaseId } = await tollgate.releases.start(spec, releaser);
      await eventually('the canary at 10%', async () =>
        (await tollgate.releases.status(releaseId)).weight === 10 ? true : undefined,
      );
      errorRatio = 0.05;

      const held = await eventually('the release to hold on the error budget', async () => {
        const status = await tollgate.releases.status(releaseId);
        return status.hold?.reason.includes('error budget') ? status : undefined;
      });
      expect(held.hold?.reason).toMatch(
        /^error budget burning 50\.0x over 1h \(error ratio 5\.00% against an objective of 99\.9%; limit 10x\); holding until it recovers or someone promotes$/,
      );
      expect(held.weight).toBe(10);
      expect(held.stage).toBe('Shifting');

      errorRatio = 0;
      expect(await tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded', stableVersion: '2.0.0' });
    } finally {
      exporter.close();
    }
  });
});
