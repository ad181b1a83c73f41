import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateToLatest } from '../../src/audit/database';
import type { Actor } from '../../src/domain/spec';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { KubeAdmin, type DeploymentLike } from '../support/kubernetes';
import { kubernetesSpec, type KubernetesSpecOptions } from '../support/kubernetes-spec';
import { startTestWorker, type TestWorker } from '../support/worker';

const alice: Actor = { id: 'alice', via: 'cli' };

let database: TestDatabase;
let worker: TestWorker;
let admin: KubeAdmin;
let namespace: string;
let kubeconfig: string;
let dir: string;

interface InPlaceDeployment extends DeploymentLike {
  spec: DeploymentLike['spec'] & {
    paused?: boolean;
    strategy: { type: string; rollingUpdate?: { maxSurge: number | string; maxUnavailable: number | string } };
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  admin = new KubeAdmin();
  ({ namespace, kubeconfig } = await admin.releaseNamespace('in-place-test'));
  worker = await startTestWorker({ db: database.db, taskQueue: `k8s-in-place-${Date.now()}` });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-in-place-'));
});

afterAll(async () => {
  await worker?.stop();
  await database?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const deployment = (name: string) => admin.read<InPlaceDeployment>('apps/v1', 'Deployment', namespace, name);
const image = async (name: string) => (await deployment(name))?.spec.template.spec.containers[0].image;

async function release(
  service: string,
  version: string,
  strategy: KubernetesSpecOptions['strategy'],
  extra: Partial<KubernetesSpecOptions> = {},
) {
  const spec = kubernetesSpec({ service, namespace, kubeconfig, version, inPlace: service, strategy, ...extra });
  const { releaseId } = await worker.releases.start(spec, alice);
  return worker.releases.result(releaseId);
}

describe('strategy recreate on one Deployment', () => {
  it('replaces every pod at once, and a version that never becomes ready is rolled back to the one before', async () => {
    expect(await release('kube-ledger', '1.0.0', { recreate: {} })).toMatchObject({ outcome: 'Succeeded' });
    expect(await release('kube-ledger', '2.0.0', { recreate: {} })).toMatchObject({ outcome: 'Succeeded' });
    const after = await deployment('kube-ledger');
    expect(after?.spec.strategy.type).toBe('Recreate');
    expect(after?.spec.template.spec.containers[0].image).toBe('registry.example.com/kube-ledger:2.0.0');
    expect(after?.status).toMatchObject({ updatedReplicas: 2, readyReplicas: 2 });
    // One Deployment for every version: nothing per version was made.
    const all = await admin.list<DeploymentLike>(
      'apps/v1',
      'Deployment',
      namespace,
      'app.kubernetes.io/name=kube-ledger',
    );
    expect(all.map((d) => d.metadata?.name)).toEqual(['kube-ledger']);

    const failed = await release(
      'kube-ledger',
      '3.0.0',
      { recreate: {} },
      { container: { resources: { requests: { cpu: '500' } } }, progressDeadline: '5s' },
    );
    expect(failed).toMatchObject({ outcome: 'RolledBack' });
    expect(failed.reason).toMatch(/Deployment in-place-test\/kube-ledger never became ready: ProgressDeadlineExceeded/);
    expect(await image('kube-ledger')).toBe('registry.example.com/kube-ledger:2.0.0');
    expect((await deployment('kube-ledger'))?.status).toMatchObject({ updatedReplicas: 2, readyReplicas: 2 });
  });
});

describe("strategy rolling on one Deployment (Kubernetes' RollingUpdate)", () => {
  const rolling = { replicas: 4, maxSurge: 1, maxUnavailable: 0 };

  it('runs the analysis between batches, with the rollout held, and finishes with every pod replaced', async () => {
    expect(await release('kube-journal', '1.0.0', { rolling }, { replicas: 4 })).toMatchObject({
      outcome: 'Succeeded',
    });
    const seen = path.join(dir, 'weights');
    const result = await release(
      'kube-journal',
      '2.0.0',
      { rolling: { ...rolling, analysis: { templates: ['check'] } } },
      { replicas: 4, analysis: { check: { provider: 'exec', command: `echo "$TOLLGATE_WEIGHT" >> "${seen}"` } } },
    );
    expect(result).toMatchObject({ outcome: 'Succeeded' });
    // One analysis after each of the first three batches, each seeing at least that batch replaced.
    const weights = fs.readFileSync(seen, 'utf8').split('\n').filter(Boolean).map(Number);
    expect(weights).toHaveLength(3);
    weights.forEach((weight, batch) => expect(weight).toBeGreaterThanOrEqual(25 * (batch + 1)));
    const after = await deployment('kube-journal');
    // Not held any more (Kubernetes leaves paused out when it is false).
    expect(after?.spec.paused ?? false).toBe(false);
    expect(after?.spec).toMatchObject({
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    });
    expect(after?.spec.template.spec.containers[0].image).toBe('registry.example.com/kube-journal:2.0.0');
    expect(after?.status).toMatchObject({ updatedReplicas: 4, readyReplicas: 4 });
  });

  it('rolls the Deployment back to the version before when an analysis between batches fails', async () => {
    const result = await release(
      'kube-journal',
      '3.0.0',
      { rolling: { ...rolling, analysis: { templates: ['check'] } } },
      { replicas: 4, analysis: { check: { provider: 'exec', command: 'echo "3.0.0 answers 500"; exit 1' } } },
    );
    expect(result).toMatchObject({ outcome: 'RolledBack' });
    expect(result.reason).toMatch(/analysis failed/);
    const after = await deployment('kube-journal');
    expect(after?.spec.paused ?? false).toBe(false);
    expect(after?.spec.template.spec.containers[0].image).toBe('registry.example.com/kube-journal:2.0.0');
    expect(after?.status).toMatchObject({ updatedReplicas: 4, readyReplicas: 4, replicas: 4 });
  });
});
