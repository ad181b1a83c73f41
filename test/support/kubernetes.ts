import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { kubeconfigYaml } from '../../src/devstack/kubernetes/kubeconfig';

/** Variables the kubernetes project's global setup passes to its test files. */
export const KUBE_TEST_ENV = { adminKubeconfig: 'TOLLGATE_TEST_ADMIN_KUBECONFIG' } as const;

/** The context name in the worker's kubeconfig that specs under test name. */
export const WORKER_CONTEXT = 'tollgate-test';

const ROOT = path.join(__dirname, '..', '..');

function adminKubeConfig(): KubeConfig {
  const file = process.env[KUBE_TEST_ENV.adminKubeconfig];
  if (!file)
    throw new Error(
      `${KUBE_TEST_ENV.adminKubeconfig} is not set: run these tests with \`npm test\` or \`npx jest --selectProjects kubernetes\``,
    );
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** The test cluster's administrator: sets namespaces and fixtures up and reads results back. Tollgate never uses it. */
export class KubeAdmin {
  readonly kc = adminKubeConfig();
  readonly api = KubernetesObjectApi.makeApiClient(this.kc);
  readonly core = this.kc.makeApiClient(CoreV1Api);

  /** Server-side apply as the test's own field manager (as a person's `kubectl apply --server-side` would). */
  async apply<T extends KubernetesObject>(object: T, manager = 'kubectl', dryRun = false): Promise<T> {
    return await this.api.patch<T>(
      object,
      undefined,
      dryRun ? 'All' : undefined,
      manager,
      true,
      'application/apply-patch+yaml',
    );
  }

  async read<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.api.read<T>({ apiVersion, kind, metadata: { name, namespace } });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  async list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector?: string,
  ): Promise<T[]> {
    const list = await this.api.list<T>(
      apiVersion,
      kind,
      namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      labelSelector,
    );
    return list.items;
  }

  /**
   * A namespace for one test file, with the Role and RoleBinding of deploy/kubernetes/rbac.yaml in
   * it, and a kubeconfig (context tollgate-test) holding a token of the worker's service account
   * from deploy/kubernetes/serviceaccounts.yaml: the worker under test has exactly that Role.
   */
  async releaseNamespace(namespace: string): Promise<{ namespace: string; kubeconfig: string }> {
    for (const object of [...manifests('namespace.yaml'), ...manifests('serviceaccounts.yaml')])
      await this.apply(object);
    await this.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    for (const object of manifests('rbac.yaml')) {
      await this.apply({ ...object, metadata: { ...object.metadata, namespace } });
    }
    const token = await this.core.createNamespacedServiceAccountToken({
      name: 'tollgate-worker',
      namespace: 'tollgate',
      body: { spec: { audiences: [], expirationSeconds: 4 * 3600 } },
    });
    const cluster = this.kc.getCurrentCluster();
    if (!cluster?.caData || !token.status?.token)
      throw new Error('the admin kubeconfig has no CA, or no token was issued');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-worker-kube-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      kubeconfigYaml({
        server: cluster.server,
        caPem: Buffer.from(cluster.caData, 'base64').toString('utf8'),
        token: token.status.token,
        context: WORKER_CONTEXT,
        user: 'tollgate-worker',
      }),
      { mode: 0o600 },
    );
    return { namespace, kubeconfig };
  }
}

/** The objects of a YAML file under deploy/kubernetes/ (or another folder of the repository). */
export function manifests(file: string, folder = 'deploy/kubernetes'): KubernetesObject[] {
  return parseAllDocuments(fs.readFileSync(path.join(ROOT, folder, file), 'utf8'))
    .map((doc) => doc.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => Boolean(object?.kind));
}

/** A pod template as the kubernetes deployer takes it; kwok runs it without pulling the image. */
export function podTemplate(service: string, extra: Record<string, unknown> = {}) {
  return {
    metadata: { labels: { team: 'checkout' } },
    spec: {
      containers: [
        {
          name: 'app',
          image: `registry.example.com/${service}:{{version}}`,
          ports: [{ containerPort: 8080 }],
          env: [{ name: 'VERSION', value: '{{version}}' }],
          ...extra,
        },
      ],
    },
  };
}

export interface BackendRefLike {
  name: string;
  weight?: number;
}

export interface HttpRouteLike extends KubernetesObject {
  spec: { rules: { name?: string; backendRefs?: BackendRefLike[]; filters?: unknown[]; matches?: unknown[] }[] };
}

export interface DeploymentLike extends KubernetesObject {
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
  status?: { readyReplicas?: number; availableReplicas?: number; updatedReplicas?: number };
}
