import { migrateToLatest } from '../../src/audit/database';
import type { Actor } from '../../src/domain/spec';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { KubeAdmin, type DeploymentLike, type HttpRouteLike } from '../support/kubernetes';
import { kubernetesSpec } from '../support/kubernetes-spec';
import { eventually } from '../support/eventually';
import { connectTestClient } from '../support/worker';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const alice: Actor = { id: 'alice', via: 'cli' };
const service = 'kube-basket';
/** A second fake node, added only once the first worker is dead: until then 2.0.0's pods cannot run. */
const LATE_NODE = 'kwok-late-node';

let database: TestDatabase;
let admin: KubeAdmin;
let namespace: string;
let kubeconfig: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  admin = new KubeAdmin();
  ({ namespace, kubeconfig } = await admin.releaseNamespace('crash-test'));
  await admin.apply({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: service, namespace },
    spec: { parentRefs: [{ name: 'public-gateway' }], rules: [{ name: 'api', backendRefs: [] }] },
  });
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop().catch(() => undefined)));
  await database?.drop();
});

async function worker(taskQueue: string): Promise<WorkerProcess> {
  const started = await startWorkerProcess({ taskQueue, databaseUrl: database.url });
  workers.push(started);
  return started;
}

const deployment = (version: string) =>
  admin.read<DeploymentLike>('apps/v1', 'Deployment', namespace, `${service}-${version.replaceAll('.', '-')}`);
const apiWeights = async () => {
  const route = await admin.read<HttpRouteLike>('gateway.networking.k8s.io/v1', 'HTTPRoute', namespace, service);
  return Object.fromEntries((route?.spec.rules[0].backendRefs ?? []).map((ref) => [ref.name, ref.weight]));
};

it('a worker SIGKILLed while it waits for a Deployment: a new worker process finishes the release, and the cluster ends consistent', async () => {
  const taskQueue = `k8s-crash-${Date.now()}`;
  const { releases, close } = await connectTestClient(taskQueue);
  const first = await worker(taskQueue);
  const v1 = kubernetesSpec({
    service,
    namespace,
    kubeconfig,
    version: '1.0.0',
    traffic: 'gateway-api',
    strategy: { canary: { steps: [{ setWeight: 100 }] } },
  });
  expect(await releases.result((await releases.start(v1, alice)).releaseId)).toMatchObject({ outcome: 'Succeeded' });

  const v2 = kubernetesSpec({
    service,
    namespace,
    kubeconfig,
    version: '2.0.0',
    traffic: 'gateway-api',
    strategy: { canary: { steps: [{ setWeight: 50 }, { setWeight: 100 }] } },
    podSpec: { nodeSelector: { 'tollgate.test/pool': 'late' } },
  });
  const { releaseId } = await releases.start(v2, alice);
  // The deploy step is running: 2.0.0's Deployment exists and cannot become ready yet.
  await eventually('2.0.0 to be deployed and waiting', async () => {
    const status = await releases.status(releaseId);
    return status.stage === 'Deploying' && (await deployment('2.0.0')) ? true : undefined;
  });
  expect((await deployment('2.0.0'))?.status?.readyReplicas ?? 0).toBe(0);

  await first.kill();
  await worker(taskQueue);
  await admin.apply({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: LATE_NODE,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: { type: 'kwok', 'tollgate.test/pool': 'late', 'kubernetes.io/hostname': LATE_NODE },
    },
    status: {
      capacity: { cpu: '8', memory: '32Gi', pods: '110' },
      allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
    },
  });

  expect(await releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded', stableVersion: '2.0.0' });
  expect(await apiWeights()).toEqual({ 'kube-basket-2-0-0': 100 });
  expect((await deployment('2.0.0'))?.status?.readyReplicas).toBe(2);
  expect(await deployment('1.0.0')).toBeUndefined();
  const ours = await admin.list<DeploymentLike>(
    'apps/v1',
    'Deployment',
    namespace,
    `app.kubernetes.io/name=${service}`,
  );
  expect(ours.map((d) => d.metadata?.name)).toEqual(['kube-basket-2-0-0']);
  await close();
});
