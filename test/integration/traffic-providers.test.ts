import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { ProviderContext } from '../../src/providers/context';
import { isAlive } from '../../src/providers/exec/process-identity';
import { ProcessDeployer } from '../../src/providers/deploy/process';
import { HaproxyRuntimeApi } from '../../src/providers/traffic/haproxy-runtime-api';
import { HaproxyTrafficRouter } from '../../src/providers/traffic/haproxy';
import { SAMPLE_COMMAND, TrafficStack } from '../support/traffic-stack';
import { eventually } from '../support/eventually';

/** The providers on their own, run twice as Temporal may run them: the same world either way. */
let stack: TrafficStack;
let stateDirectory: string;

beforeAll(async () => {
  stack = await TrafficStack.start(['idem']);
  stateDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-idem-'));
});

afterAll(async () => {
  await stack?.stop();
  fs.rmSync(stateDirectory, { recursive: true, force: true });
});

const ctx = (): ProviderContext => ({
  facts: {
    releaseId: 'idem:test:2.0.0',
    service: 'idem',
    environment: 'test',
    version: '2.0.0',
    initiator: 'test',
    attempt: 1,
  },
  stepId: 'idem/deploy',
  signal: new AbortController().signal,
  log: pino({ level: 'silent' }),
});

const deployer = () =>
  new ProcessDeployer({
    provider: 'process',
    command: SAMPLE_COMMAND,
    instances: 2,
    host: '127.0.0.1',
    readiness: { path: '/healthz', timeout: '30s', interval: '100ms' },
    stopTimeout: '5s',
    stateDirectory,
  });

it('reuses running instances when a deploy runs twice, restarts a crashed one on its port, and stops them all on undeploy, twice', async () => {
  const first = await deployer().deploy(ctx(), '2.0.0');
  const pids = JSON.parse(fs.readFileSync(path.join(stateDirectory, '2.0.0.json'), 'utf8')).instances.map(
    (i: { pid: number }) => i.pid,
  );
  // A second worker (a new deployer object) retrying the step finds the same instances.
  const again = await deployer().deploy(ctx(), '2.0.0');
  expect(again).toEqual(first);
  expect(
    JSON.parse(fs.readFileSync(path.join(stateDirectory, '2.0.0.json'), 'utf8')).instances.map(
      (i: { pid: number }) => i.pid,
    ),
  ).toEqual(pids);

  // An instance that dies on its own is started again where it was.
  process.kill(-pids[0], 'SIGKILL');
  await eventually('the crashed instance to answer again on its port', async () => {
    const response = await fetch(`http://127.0.0.1:${first.endpoints[0].port}/healthz`).catch(() => undefined);
    return response?.ok ? true : undefined;
  });

  await deployer().undeploy(ctx(), '2.0.0');
  await deployer().undeploy(ctx(), '2.0.0');
  const record = JSON.parse(fs.readFileSync(path.join(stateDirectory, '2.0.0.json'), 'utf8'));
  expect(record.instances).toEqual([]);
  expect(pids.filter(isAlive)).toEqual([]);
  // Started again (a rollback restoring a retired version), it comes back on the same ports.
  const restarted = await deployer().deploy(ctx(), '2.0.0');
  expect(restarted.endpoints).toEqual(first.endpoints);
  await deployer().undeploy(ctx(), '2.0.0');
});

it('changes nothing when the same weight is set twice, and reads it back', async () => {
  const canary = await deployer().deploy(ctx(), '2.0.0');
  const router = new HaproxyTrafficRouter({
    provider: 'haproxy',
    runtimeApi: stack.haproxy.runtimeApi,
    backend: 'idem',
    serverPrefix: '',
    timeout: '5s',
  });
  const request = { weight: 100, previousWeight: 0, canary, mode: 'weights' as const };
  const baseline = await router.setWeight(ctx(), request);
  const after = await new HaproxyRuntimeApi(stack.haproxy.runtimeApi).servers('idem');
  const again = await router.setWeight(ctx(), { ...request, baseline });
  expect(await new HaproxyRuntimeApi(stack.haproxy.runtimeApi).servers('idem')).toEqual(after);
  expect(again).toEqual(baseline);
  expect(await router.verifyWeight(ctx(), { ...request, baseline })).toBe(true);
  await router.setWeight(ctx(), { ...request, weight: 0, baseline });
  expect(await new HaproxyRuntimeApi(stack.haproxy.runtimeApi).servers('idem')).toEqual(baseline.servers);
  await deployer().undeploy(ctx(), '2.0.0');
});
