import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { migrateToLatest } from '../../src/audit/database';
import type { Actor } from '../../src/domain/spec';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { KubeAdmin, type DeploymentLike } from '../support/kubernetes';
import { kubernetesSpec } from '../support/kubernetes-spec';
import { eventually } from '../support/eventually';
import { startTestWorker, type TestWorker } from '../support/worker';

const alice: Actor = { id: 'alice', via: 'cli' };
const service = 'kube-store';

let database: TestDatabase;
let worker: TestWorker;
let admin: KubeAdmin;
let namespace: string;
let kubeconfig: string;
let dir: string;

type ServiceLike = KubernetesObject & { spec: { selector: Record<string, string>; ports: { port: number }[] } };

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  admin = new KubeAdmin();
  ({ namespace, kubeconfig } = await admin.releaseNamespace('blue-green-test'));
  await admin.apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service, namespace, labels: { team: 'checkout' } },
    spec: { selector: { 'app.kubernetes.io/name': service }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
  worker = await startTestWorker({ db: database.db, taskQueue: `k8s-blue-green-${Date.now()}` });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-blue-green-'));
});

afterAll(async () => {
  await worker?.stop();
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const selector = async () => (await admin.read<ServiceLike>('v1', 'Service', namespace, service))?.spec.selector;
const deployment = (version: string) =>
  admin.read<DeploymentLike>('apps/v1', 'Deployment', namespace, `${service}-${version.replaceAll('.', '-')}`);

it('switches the Service selector to green, and back to blue when the post-promotion analysis fails', async () => {
  const blue = kubernetesSpec({
    service,
    namespace,
    kubeconfig,
    version: '1.0.0',
    traffic: 'service-selector',
    strategy: { blueGreen: {} },
  });
  const first = await worker.releases.start(blue, alice);
  expect(await worker.releases.result(first.releaseId)).toMatchObject({ outcome: 'Succeeded' });
  expect(await selector()).toEqual({ 'app.kubernetes.io/name': service, 'app.kubernetes.io/version': '1.0.0' });
  const blueBefore = await deployment('1.0.0');

  // The analysis after the switch fails, but only once the test has seen green selected.
  const seen = path.join(dir, 'switch-seen');
  const green = kubernetesSpec({
    service,
    namespace,
    kubeconfig,
    version: '2.0.0',
    traffic: 'service-selector',
    strategy: { blueGreen: { postPromotionAnalysis: { templates: ['smoke'] } } },
    analysis: {
      smoke: {
        provider: 'exec',
        command: `while [ ! -f "${seen}" ]; do sleep 0.1; done; echo "green answers 500"; exit 1`,
        timeout: '10m',
      },
    },
  });
  const { releaseId } = await worker.releases.start(green, alice);
  await eventually('the Service to select green', async () =>
    (await selector())?.['app.kubernetes.io/version'] === '2.0.0' ? true : undefined,
  );
  expect(await selector()).toEqual({ 'app.kubernetes.io/name': service, 'app.kubernetes.io/version': '2.0.0' });
  expect((await deployment('2.0.0'))?.status?.readyReplicas).toBe(2);
  fs.writeFileSync(seen, '');

  expect(await worker.releases.result(releaseId)).toMatchObject({ outcome: 'RolledBack' });
  expect(await selector()).toEqual({ 'app.kubernetes.io/name': service, 'app.kubernetes.io/version': '1.0.0' });
  await eventually('green to be removed', async () => ((await deployment('2.0.0')) ? undefined : true));
  const blueAfter = await deployment('1.0.0');
  expect(blueAfter?.spec).toEqual(blueBefore?.spec);
  expect(blueAfter?.status?.readyReplicas).toBe(2);
  // Ports and labels are the team's: Tollgate wrote only the selector.
  const after = await admin.read<ServiceLike>('v1', 'Service', namespace, service);
  expect(after?.spec.ports).toMatchObject([{ name: 'http', port: 80, targetPort: 8080 }]);
  expect(after?.metadata?.labels).toEqual({ team: 'checkout' });
});
