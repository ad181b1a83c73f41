import { migrateToLatest } from '../../src/audit/database';
import { startLoad } from '../../examples/load-generator/load';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { outcomeOf, releaser, shareOf, TrafficStack } from '../support/traffic-stack';
import { startTestWorker, type TestWorker } from '../support/worker';
import { eventually } from '../support/eventually';
import { StepGate } from '../support/step-gate';

/**
 * Canary releases of the sample service through real HAProxy, with real Prometheus analysing real
 * processes on loopback, while a load generator drives HAProxy the whole time.
 */
let database: TestDatabase;
let tollgate: TestWorker;
let stack: TrafficStack;
const gate = new StepGate();

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  [tollgate, stack] = await Promise.all([
    startTestWorker({ db: database.db, taskQueue: `traffic-canary-${Date.now()}` }),
    TrafficStack.start(['canary-shop', 'canary-cart', 'canary-search']),
  ]);
});

afterAll(async () => {
  await tollgate?.stop();
  await stack?.stop();
  await database?.drop();
  gate.remove();
});

describe('a canary on HAProxy', () => {
  it('takes a healthy version 1 → 10 → 50 → 100 to Succeeded while the load sees not one failed request', async () => {
    await stack.bootstrap(tollgate.releases, 'canary-shop');
    const v1Ports = stack.ports('canary-shop', '1.0.0');
    const v1Pids = stack.runningInstances('canary-shop', '1.0.0');
    const load = startLoad({ url: stack.haproxy.frontends['canary-shop'], rate: 100 });
    await eventually(
      'v1 to answer through HAProxy',
      async () => (load.report().byVersion['1.0.0']?.ok ?? 0) > 20 || undefined,
    );

    const spec = stack.spec({
      service: 'canary-shop',
      version: '2.0.0',
      steps: [
        { setWeight: 1 },
        { analysis: { templates: ['smoke', 'error-rate'], duration: '8s' } },
        { analysis: { templates: ['gate'] } },
        { setWeight: 10 },
        { analysis: { templates: ['error-rate'], duration: '3s' } },
        { analysis: { templates: ['gate'] } },
        { setWeight: 50 },
        { analysis: { templates: ['error-rate', 'latency-vs-stable'], duration: '4s' } },
        { analysis: { templates: ['gate'] } },
        { setWeight: 100 },
      ],
      analysis: { ...stack.analysis(), gate: gate.template() },
    });
    const { releaseId } = await tollgate.releases.start(spec, releaser);
    // HAProxy really holds the canary at each weight on the way (read back from the Runtime API).
    for (const weight of [1, 10, 50]) {
      await gate.heldAt(weight);
      expect(shareOf(await stack.servers('canary-shop'), stack.ports('canary-shop', '2.0.0'))).toBe(weight);
      gate.open(weight);
    }
    const result = await outcomeOf(tollgate.releases, releaseId);
    await eventually(
      'v2 to answer through HAProxy',
      async () => (load.report().byVersion['2.0.0']?.ok ?? 0) > 20 || undefined,
    );
    const report = await load.stop();

    expect(result).toMatchObject({ outcome: 'Succeeded', stableVersion: '2.0.0' });
    expect(report.failed).toEqual([]);
    expect(report.byVersion['1.0.0'].ok).toBeGreaterThan(0);
    expect(report.byVersion['2.0.0'].ok).toBeGreaterThan(0);
    // All traffic on v2; v1 retired: its processes are gone and its slots carry no weight.
    const servers = await stack.servers('canary-shop');
    expect(shareOf(servers, stack.ports('canary-shop', '2.0.0'))).toBe(100);
    expect(shareOf(servers, v1Ports)).toBe(0);
    expect(stack.runningInstances('canary-shop', '1.0.0')).toEqual([]);
    expect(v1Pids.length).toBe(2);

    const status = await tollgate.releases.status(releaseId);
    const analyses = status.events.filter((event) => event.kind === 'analysis');
    expect(analyses.map((event) => event.data?.verdict)).toEqual(Array(6).fill('Successful'));
    expect(analyses[4].message).toMatch(/latency-vs-stable: Successful .*no worse than stable/);
  });

  it('rolls a faulty version back on its own: weights verified back at stable, processes stopped, the failed analysis in history', async () => {
    await stack.bootstrap(tollgate.releases, 'canary-cart');
    const before = await stack.servers('canary-cart');
    const load = startLoad({ url: stack.haproxy.frontends['canary-cart'], rate: 100 });
    const spec = stack.spec({
      service: 'canary-cart',
      version: '3.0.0',
      steps: [
        { setWeight: 10 },
        { analysis: { templates: ['error-rate'], duration: '20s' } },
        { setWeight: 50 },
        { setWeight: 100 },
      ],
      analysis: stack.analysis(),
    });
    const { releaseId } = await tollgate.releases.start(spec, releaser);
    const result = await outcomeOf(tollgate.releases, releaseId);
    const report = await load.stop();

    expect(result.outcome).toBe('RolledBack');
    expect(result.reason).toMatch(/analysis failed: error-rate: Failed .*result 0\.\d+ does not meet "result < 0.05"/);
    // Exactly the routing found before the release, read back from HAProxy.
    expect(await stack.servers('canary-cart')).toEqual(before);
    expect(stack.runningInstances('canary-cart', '3.0.0')).toEqual([]);
    // Only the faulty version failed requests, and only while it had its 10%.
    expect(report.failed.length).toBeGreaterThan(0);
    expect(report.failed.every((failure) => failure.version === '3.0.0')).toBe(true);

    const status = await tollgate.releases.status(releaseId);
    expect(status.lastAnalysis).toMatchObject({
      verdict: 'Failed',
      templates: [expect.objectContaining({ template: 'error-rate', verdict: 'Failed' })],
    });
    const kinds = status.events.map(
      (event) => `${event.kind}${event.kind === 'compensation' ? `: ${event.message}` : ''}`,
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        'analysis',
        'compensation: undone: restore traffic to 0% on 3.0.0',
        'compensation: undone: undeploy 3.0.0',
      ]),
    );
    expect(kinds.indexOf('compensation: undone: restore traffic to 0% on 3.0.0')).toBeLessThan(
      kinds.indexOf('compensation: undone: undeploy 3.0.0'),
    );
    expect(status.weight).toBe(0);
  });

  it('catches a latency regression by comparing canary with stable, where thresholds alone pass it', async () => {
    await stack.bootstrap(tollgate.releases, 'canary-search');
    const load = startLoad({ url: stack.haproxy.frontends['canary-search'], rate: 100 });
    const spec = stack.spec({
      service: 'canary-search',
      version: '2.1.0',
      steps: [
        { setWeight: 25 },
        // Time for Prometheus to scrape the new version, as Argo's initialDelay.
        { pause: { duration: '4s' } },
        { analysis: { templates: ['error-rate', 'latency-threshold'], duration: '6s' } },
        { analysis: { templates: ['latency-vs-stable'], duration: '20s' } },
        { setWeight: 100 },
      ],
      analysis: stack.analysis(),
    });
    const { releaseId } = await tollgate.releases.start(spec, releaser);
    const result = await outcomeOf(tollgate.releases, releaseId);
    await load.stop();

    expect(result.outcome).toBe('RolledBack');
    expect(result.reason).toMatch(
      /latency-vs-stable: Failed .*canary 2\.1\.0 median .* vs stable 1\.0\.0 .*Mann-Whitney p=/,
    );
    const analyses = (await tollgate.releases.status(releaseId)).events.filter((event) => event.kind === 'analysis');
    expect(analyses.map((event) => event.data?.verdict)).toEqual(['Successful', 'Failed']);
    expect(analyses[0].message).toMatch(/latency-threshold: Successful/);
  });
});
