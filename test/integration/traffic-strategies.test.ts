import { migrateToLatest } from '../../src/audit/database';
import { startLoad } from '../../examples/load-generator/load';
import type { ServerState } from '../../src/domain/routing';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { releaser, shareOf, TrafficStack } from '../support/traffic-stack';
import { eventually } from '../support/eventually';
import { StepGate } from '../support/step-gate';
import { startTestWorker, type TestWorker } from '../support/worker';

/** Blue-green and rolling plans on real HAProxy, under load. */
let database: TestDatabase;
let tollgate: TestWorker;
let stack: TrafficStack;
const gate = new StepGate();

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
  gate.remove();
});

/** Samples HAProxy's backend until the release ends, to catch any state between two of its steps. */
async function watch(service: string, releaseId: string): Promise<ServerState[][]> {
  const samples: ServerState[][] = [];
  for (;;) {
    samples.push(await stack.servers(service));
    if ((await tollgate.releases.status(releaseId)).outcome) return samples;
    await new Promise((resolve) => setTimeout(resolve, 50)); // pacing only: every sample counts, none is awaited
  }
}

/** Serving servers of each version, as "old/new". */
function servingCounts(servers: ServerState[], newPorts: number[]): string {
  const serving = servers.filter((server) => server.state === 'ready' && server.weight > 0);
  const fresh = serving.filter((server) => newPorts.includes(server.port)).length;
  return `${serving.length - fresh}/${fresh}`;
}

it('switches blue-green in one step after a smoke test of green, keeps blue warm through the bake, then retires it, without a failed request', async () => {
  await stack.bootstrap(tollgate.releases, 'strategy-blue');
  const load = startLoad({ url: stack.haproxy.frontends['strategy-blue'], rate: 100 });
  const spec = stack.spec({
    service: 'strategy-blue',
    version: '2.0.0',
    // The bake lasts until the test has looked at blue and promotes past it.
    strategy: { blueGreen: { prePromotionAnalysis: { templates: ['smoke', 'gate'], duration: '2s' }, bake: '1h' } },
    analysis: { ...stack.analysis(), gate: gate.template() },
  });
  const { releaseId } = await tollgate.releases.start(spec, releaser);
  const samples = watch('strategy-blue', releaseId);

  // Green is up and smoke-tested, and takes no traffic yet.
  await gate.heldAt(0);
  const greenPorts = stack.ports('strategy-blue', '2.0.0');
  expect(shareOf(await stack.servers('strategy-blue'), greenPorts)).toBe(0);
  gate.open(0);
  // Switched: green takes everything while blue stays warm for the bake.
  await eventually('the bake at 100%', async () => {
    const status = await tollgate.releases.status(releaseId);
    return status.stage === 'Baking' && status.weight === 100 ? true : undefined;
  });
  expect(shareOf(await stack.servers('strategy-blue'), greenPorts)).toBe(100);
  expect(stack.runningInstances('strategy-blue', '1.0.0')).toHaveLength(2);
  await tollgate.releases.promote(releaseId, { actor: releaser });

  const result = await tollgate.releases.result(releaseId);
  const seen = await samples;
  const report = await load.stop();
  expect(result.outcome).toBe('Succeeded');
  expect(report.failed).toEqual([]);
  // Whenever it was sampled, green's share was 0 or 100, never anything between: one switch.
  const shares = new Set(seen.map((servers) => shareOf(servers, greenPorts)));
  expect([...shares].filter((share) => share !== 0 && share !== 100)).toEqual([]);
  expect(shareOf(await stack.servers('strategy-blue'), greenPorts)).toBe(100);
  expect(stack.runningInstances('strategy-blue', '1.0.0')).toEqual([]);
});

it('moves whole servers in rolling batches: one of two, then both', async () => {
  await stack.bootstrap(tollgate.releases, 'strategy-rolling');
  const load = startLoad({ url: stack.haproxy.frontends['strategy-rolling'], rate: 100 });
  const spec = stack.spec({
    service: 'strategy-rolling',
    version: '2.0.0',
    strategy: { rolling: { replicas: 2, maxSurge: 1, analysis: { templates: ['smoke', 'gate'], duration: '2s' } } },
    analysis: { ...stack.analysis(), gate: gate.template() },
  });
  expect(servingCounts(await stack.servers('strategy-rolling'), [])).toBe('2/0');
  const { releaseId } = await tollgate.releases.start(spec, releaser);

  // Between the batches: one old and one new server serve.
  await gate.heldAt(50);
  const newPorts = stack.ports('strategy-rolling', '2.0.0');
  expect(servingCounts(await stack.servers('strategy-rolling'), newPorts)).toBe('1/1');
  gate.open(50);

  const result = await tollgate.releases.result(releaseId);
  const report = await load.stop();
  expect(result.outcome).toBe('Succeeded');
  expect(report.failed).toEqual([]);
  expect(servingCounts(await stack.servers('strategy-rolling'), newPorts)).toBe('0/2');
});
