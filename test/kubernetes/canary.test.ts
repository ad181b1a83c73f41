import { migrateToLatest } from '../../src/audit/database';
import type { Actor } from '../../src/domain/spec';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { KubeAdmin, type DeploymentLike, type HttpRouteLike } from '../support/kubernetes';
import { kubernetesSpec } from '../support/kubernetes-spec';
import { eventually } from '../support/eventually';
import { startTestWorker, type TestWorker } from '../support/worker';

const alice: Actor = { id: 'alice', via: 'cli' };
const service = 'kube-shop';

let database: TestDatabase;
let worker: TestWorker;
let admin: KubeAdmin;
let namespace: string;
let kubeconfig: string;

/** The route as a platform team wrote it: Tollgate manages rule "api"; rule "static" and the filters are theirs. */
const staticRule = {
  name: 'static',
  matches: [{ path: { type: 'PathPrefix', value: '/static' } }],
  filters: [
    { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'X-Served-By', value: 'static' }] } },
  ],
  backendRefs: [{ name: 'static-files', port: 80 }],
};
const apiFilter = {
  type: 'RequestHeaderModifier',
  requestHeaderModifier: { set: [{ name: 'X-Env', value: 'staging' }] },
};

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  admin = new KubeAdmin();
  ({ namespace, kubeconfig } = await admin.releaseNamespace('canary-test'));
  await admin.apply({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: service, namespace },
    spec: {
      parentRefs: [{ name: 'public-gateway' }],
      hostnames: ['shop.example.com'],
      rules: [
        {
          name: 'api',
          matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
          filters: [apiFilter],
          backendRefs: [{ name: 'shop-legacy', port: 80 }],
        },
        staticRule,
      ],
    },
  });
  worker = await startTestWorker({ db: database.db, taskQueue: `k8s-canary-${Date.now()}` });
});

afterAll(async () => {
  await worker?.stop();
  await database?.drop();
});

const route = async () => {
  const found = await admin.read<HttpRouteLike>('gateway.networking.k8s.io/v1', 'HTTPRoute', namespace, service);
  if (!found) throw new Error('the HTTPRoute is gone');
  return found;
};
const apiWeights = async () =>
  Object.fromEntries(
    ((await route()).spec.rules.find((rule) => rule.name === 'api')?.backendRefs ?? []).map((ref) => [
      ref.name,
      ref.weight,
    ]),
  );
const deployment = (version: string) =>
  admin.read<DeploymentLike>('apps/v1', 'Deployment', namespace, `${service}-${version.replaceAll('.', '-')}`);

async function releaseToSucceed(version: string, steps: object[]): Promise<string> {
  const spec = kubernetesSpec({
    service,
    namespace,
    kubeconfig,
    version,
    traffic: 'gateway-api',
    strategy: { canary: { steps } },
  });
  const { releaseId } = await worker.releases.start(spec, alice);
  return releaseId;
}

it('releases 1.0.0 onto a route that sent everything to the legacy Service', async () => {
  const releaseId = await releaseToSucceed('1.0.0', [{ setWeight: 100 }]);
  expect(await worker.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
  expect(await apiWeights()).toEqual({ 'kube-shop-1-0-0': 100 });
  expect((await deployment('1.0.0'))?.status?.readyReplicas).toBe(2);
});

it('runs a canary 10 → 50 → 100 to Succeeded: weights read back from the API server at each step, the old Deployment retired, the other rule untouched', async () => {
  const releaseId = await releaseToSucceed('2.0.0', [
    { setWeight: 10 },
    { pause: {} },
    { setWeight: 50 },
    { pause: {} },
    { setWeight: 100 },
  ]);
  const atPause = (weight: number) =>
    eventually(`the release to hold at ${weight}%`, async () => {
      const status = await worker.releases.status(releaseId);
      return status.weight === weight && status.step?.label === 'pause until promoted' ? status : undefined;
    });

  await atPause(10);
  expect(await apiWeights()).toEqual({ 'kube-shop-1-0-0': 90, 'kube-shop-2-0-0': 10 });
  const v2 = await deployment('2.0.0');
  expect(v2?.status?.readyReplicas).toBe(2);
  expect(v2?.metadata?.labels).toMatchObject({
    'app.kubernetes.io/name': service,
    'app.kubernetes.io/version': '2.0.0',
    'app.kubernetes.io/managed-by': 'tollgate',
    'tollgate.io/release': 'kube-shop_staging_2.0.0',
  });
  expect(v2?.spec.template.spec.containers[0].image).toBe('registry.example.com/kube-shop:2.0.0');
  await worker.releases.promote(releaseId, { actor: alice });

  await atPause(50);
  expect(await apiWeights()).toEqual({ 'kube-shop-1-0-0': 50, 'kube-shop-2-0-0': 50 });
  await worker.releases.promote(releaseId, { actor: alice });

  expect(await worker.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded', stableVersion: '2.0.0' });
  expect(await apiWeights()).toEqual({ 'kube-shop-2-0-0': 100 });
  expect(await deployment('1.0.0')).toBeUndefined();
  expect((await deployment('2.0.0'))?.status?.readyReplicas).toBe(2);

  // Everything but rule "api"'s backendRefs is as the platform team wrote it.
  const after = await route();
  expect(after.spec.rules.find((rule) => rule.name === 'static')).toMatchObject(staticRule);
  expect(after.spec.rules.find((rule) => rule.name === 'api')?.filters).toEqual([apiFilter]);
  expect(after.spec).toMatchObject({ parentRefs: [{ name: 'public-gateway' }], hostnames: ['shop.example.com'] });
  // Every write carried the lane's fencing token, recorded on the route for older attempts to be refused by.
  expect(after.metadata?.annotations).toMatchObject({
    'tollgate.io/fence-lane': 'lane:kube-shop:staging',
    'tollgate.io/fence-token': expect.stringMatching(/^\d+$/),
  });
  // Written by field manager "tollgate" with server-side apply.
  expect(
    after.metadata?.managedFields?.some((field) => field.manager === 'tollgate' && field.operation === 'Apply'),
  ).toBe(true);
});

it('rolls back a release whose pods never become ready: weights as before, the new Deployment removed, the old one untouched', async () => {
  const before = await route();
  const stable = await deployment('2.0.0');
  const spec = kubernetesSpec({
    service,
    namespace,
    kubeconfig,
    version: '3.0.0',
    traffic: 'gateway-api',
    strategy: { canary: { steps: [{ setWeight: 10 }, { setWeight: 100 }] } },
    // More CPU than any node has: the pods are never scheduled, the Deployment makes no progress.
    container: { resources: { requests: { cpu: '500' } } },
    progressDeadline: '5s',
  });
  const { releaseId } = await worker.releases.start(spec, alice);
  await eventually('the 3.0.0 Deployment to exist', async () => ((await deployment('3.0.0')) ? true : undefined));

  const result = await worker.releases.result(releaseId);
  expect(result).toMatchObject({ outcome: 'RolledBack' });
  expect(result.reason).toMatch(
    /Deployment canary-test\/kube-shop-3-0-0 never became ready: ProgressDeadlineExceeded: ReplicaSet "kube-shop-3-0-0-\w+" has timed out progressing\. \(progressDeadline 5s\)/,
  );
  expect(await apiWeights()).toEqual({ 'kube-shop-2-0-0': 100 });
  expect((await route()).spec).toEqual(before.spec);
  await eventually('the 3.0.0 Deployment to be removed', async () => ((await deployment('3.0.0')) ? undefined : true));
  const after = await deployment('2.0.0');
  expect(after?.metadata?.generation).toBe(stable?.metadata?.generation);
  expect(after?.spec).toEqual(stable?.spec);
  expect(after?.status?.readyReplicas).toBe(2);
});
