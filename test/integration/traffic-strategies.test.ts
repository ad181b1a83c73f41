import { migrateToLatest } from '../../src/audit/database';
import { startLoad } from '../../examples/load-generator/load';
import type { ServerState } from '../../src/domain/routing';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { releaser, shareOf, TrafficStack } from '../support/traffic-stack';
import { startTestWorker, type TestWorker } from '../support/worker';

/** Blue-green and rolling plans on real HAProxy, under load. */
let database: TestDatabase;
let tollgate: TestWorker;
let stack: TrafficStack;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  [tollgate, stack] = await Promise.all([
    startTestWorker({ db: database.db, taskQueue: `traffic-strategies-${Date.now()}` }),
    TrafficStack.start(['strategy-blue', 'strategy-rolling']),
  ]);
});

afterAll(async () => {
  await tollgate?.stop();
  await stack?.stop();
  await database?.drop();
});

/** Samples HAProxy's backend every 100 ms while the release runs. */
async function watch(service: string, releaseId: string): Promise<ServerState[][]> {
  const samples: ServerState[][] = [];
  for (;;) {
    samples.push(await stack.servers(service));
    if ((await tollgate.releases.status(releaseId)).outcome) return samples;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it('switches blue-green in one step after a smoke test of green, keeps blue warm through the bake, then retires it, without a failed request', async () => {
  await stack.bootstrap(tollgate.releases, 'strategy-blue');
  const load = startLoad({ url: stack.haproxy.frontends['strategy-blue'], rate: 100 });
  const spec = stack.spec({
    service: 'strategy-blue',
    version: '2.0.0',
    strategy: { blueGreen: { prePromotionAnalysis: { templates: ['smoke'], duration: '2s' }, bake: '3s' } },
    analysis: stack.analysis(),
  });
  const { releaseId } = await tollgate.releases.start(spec, releaser);
  let blueWarmAtFull = false;
  const samples = watch('strategy-blue', releaseId);
  const warmth = (async () => {
    for (;;) {
      const status = await tollgate.releases.status(releaseId);
      if (status.outcome) return;
      if (status.stage === 'Baking' && status.weight === 100)
        blueWarmAtFull ||= stack.runningInstances('strategy-blue', '1.0.0').length === 2;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const result = await tollgate.releases.result(releaseId);
  const [seen] = await Promise.all([samples, warmth]);
  const report = await load.stop();

  expect(result.outcome).toBe('Succeeded');
  expect(report.failed).toEqual([]);
  // Green's share went from 0 to 100 with nothing in between: one switch.
  const greenPorts = stack.ports('strategy-blue', '2.0.0');
  expect([...new Set(seen.map((servers) => shareOf(servers, greenPorts)))]).toEqual([0, 100]);
  expect(blueWarmAtFull).toBe(true);
  expect(stack.runningInstances('strategy-blue', '1.0.0')).toEqual([]);
});

it('moves whole servers in rolling batches: one of two, then both', async () => {
  await stack.bootstrap(tollgate.releases, 'strategy-rolling');
  const load = startLoad({ url: stack.haproxy.frontends['strategy-rolling'], rate: 100 });
  const spec = stack.spec({
    service: 'strategy-rolling',
    version: '2.0.0',
    strategy: { rolling: { replicas: 2, maxSurge: 1, analysis: { templates: ['smoke'], duration: '2s' } } },
    analysis: stack.analysis(),
  });
  const { releaseId } = await tollgate.releases.start(spec, releaser);
  const seen = await watch('strategy-rolling', releaseId);
  const result = await tollgate.releases.result(releaseId);
  const report = await load.stop();

  expect(result.outcome).toBe('Succeeded');
  expect(report.failed).toEqual([]);
  const newPorts = stack.ports('strategy-rolling', '2.0.0');
  // Serving servers of each version, per sample: (old, new) goes (2, 0) → (1, 1) → (0, 2).
  const counts = seen.map((servers) => {
    const serving = servers.filter((server) => server.state === 'ready' && server.weight > 0);
    const fresh = serving.filter((server) => newPorts.includes(server.port)).length;
    return `${serving.length - fresh}/${fresh}`;
  });
  expect([...new Set(counts)]).toEqual(['2/0', '1/1', '0/2']);
});
