import fs from 'node:fs';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseReleaseSpec } from '../../src/domain/parse-spec';
import type { KubernetesCluster } from '../../src/domain/spec';
import { kubernetesClient } from '../../src/providers/kubernetes/cluster-client';
import { KubeObjects } from '../../src/providers/kubernetes/objects';
import { KubeAdmin, WORKER_CONTEXT, manifests } from '../support/kubernetes';

const ROOT = path.join(__dirname, '..', '..');
let admin: KubeAdmin;
let namespace: string;
let cluster: KubernetesCluster;

beforeAll(async () => {
  admin = new KubeAdmin();
  let kubeconfig: string;
  ({ namespace, kubeconfig } = await admin.releaseNamespace('rbac-test'));
  cluster = { kubeconfig, context: WORKER_CONTEXT, inCluster: false };
});

const yamlFiles = (folder: string) =>
  fs
    .readdirSync(path.join(ROOT, folder))
    .filter((file) => file.endsWith('.yaml') && file !== 'release.yaml')
    .sort();

describe('the manifests under deploy/kubernetes', () => {
  it.each(yamlFiles('deploy/kubernetes'))('%s is accepted by the API server (dryRun=All)', async (file) => {
    for (const object of manifests(file)) {
      const placed = object.metadata?.namespace ? object : { ...object, metadata: { ...object.metadata, namespace } };
      await expect(admin.apply(placed, 'kubectl', true)).resolves.toMatchObject({ kind: object.kind });
    }
  });
});

describe('examples/kubernetes-canary', () => {
  it.each(yamlFiles('examples/kubernetes-canary'))('%s is accepted by the API server (dryRun=All)', async (file) => {
    for (const object of manifests(file, 'examples/kubernetes-canary')) {
      await admin.apply({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: object.metadata?.namespace ?? 'default' },
      });
      await expect(admin.apply(object, 'kubectl', true)).resolves.toMatchObject({ kind: object.kind });
    }
  });

  it('has a release spec Tollgate accepts', () => {
    const file = path.join(ROOT, 'examples/kubernetes-canary/release.yaml');
    const spec = parseReleaseSpec(fs.readFileSync(file, 'utf8'), file);
    expect(spec.deploy.provider).toBe('kubernetes');
    expect(spec.traffic?.provider).toBe('gateway-api');
  });
});

describe("the worker's Role (deploy/kubernetes/rbac.yaml)", () => {
  const worker = () => new KubeObjects(kubernetesClient(cluster));

  it('lets the worker read what it releases', async () => {
    await admin.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'probe', namespace },
      spec: { ports: [{ port: 80 }] },
    });
    await expect(
      worker().read({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'probe', namespace } }),
    ).resolves.toMatchObject({
      kind: 'Service',
    });
  });

  it.each([
    [
      'a Secret in its namespace',
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-password', namespace: '' } },
    ],
    ['a Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'anything', namespace: '' } }],
    [
      'a Deployment in a namespace it was not given',
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'kube-system' } },
    ],
  ])('refuses it %s, with a message naming the manifest', async (_what, ref) => {
    const target = { ...ref, metadata: { ...ref.metadata, namespace: ref.metadata.namespace || namespace } };
    await expect(worker().read(target as KubernetesObject as never)).rejects.toMatchObject({
      name: 'ProviderError',
      retryable: false,
      message: expect.stringMatching(/may not get .*403.*deploy\/kubernetes\/rbac\.yaml/),
    });
  });
});
