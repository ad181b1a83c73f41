import { Writable } from 'node:stream';
import pino from 'pino';
import type { ReleaseFacts } from '../../src/domain/release-facts';
import type { GatewayApiTraffic, KubernetesDeploy } from '../../src/domain/spec';
import {
  GatewayApiTraffic as GatewayApiTrafficSchema,
  KubernetesDeploy as KubernetesDeploySchema,
} from '../../src/domain/spec';
import type { ProviderContext } from '../../src/providers/context';
import { KubernetesDeployer } from '../../src/providers/deploy/kubernetes';
import { kubernetesClient } from '../../src/providers/kubernetes/cluster-client';
import { FENCE_TOKEN_ANNOTATION } from '../../src/providers/kubernetes/fence-annotations';
import { KubeObjects } from '../../src/providers/kubernetes/objects';
import { updateObject } from '../../src/providers/kubernetes/update-object';
import { GatewayApiTrafficRouter } from '../../src/providers/traffic/gateway-api';
import { KubeAdmin, WORKER_CONTEXT, podTemplate, type DeploymentLike, type HttpRouteLike } from '../support/kubernetes';

const service = 'kube-cart';
let admin: KubeAdmin;
let namespace: string;
let kubeconfig: string;
let logged: Record<string, unknown>[];

const facts: ReleaseFacts = {
  releaseId: 'kube-cart:staging:2.0.0',
  service,
  environment: 'staging',
  version: '2.0.0',
  stableVersion: '1.0.0',
  initiator: 'alice',
  attempt: 1,
};

function context(token?: number): ProviderContext {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return {
    facts,
    stepId: `${facts.releaseId}/step-0`,
    signal: new AbortController().signal,
    log: pino({ level: 'info' }, sink).child({ releaseId: facts.releaseId }),
    ...(token !== undefined ? { fence: { laneId: 'lane:kube-cart:staging', token } } : {}),
  };
}

function routerConfig(): GatewayApiTraffic {
  return GatewayApiTrafficSchema.parse({
    provider: 'gateway-api',
    cluster: { kubeconfig, context: WORKER_CONTEXT },
    namespace,
    httpRoute: service,
    rule: 'api',
    port: 80,
  });
}

const route = async () => {
  const found = await admin.read<HttpRouteLike>('gateway.networking.k8s.io/v1', 'HTTPRoute', namespace, service);
  if (!found) throw new Error('the HTTPRoute is gone');
  return found;
};
const apiRefs = async () => (await route()).spec.rules.find((rule) => rule.name === 'api')?.backendRefs;

beforeAll(async () => {
  admin = new KubeAdmin();
  ({ namespace, kubeconfig } = await admin.releaseNamespace('stale-writes-test'));
});

beforeEach(async () => {
  logged = [];
  await admin.api
    .delete({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: service, namespace } })
    .catch(() => undefined);
  await admin.apply({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: service, namespace },
    spec: {
      parentRefs: [{ name: 'public-gateway' }],
      rules: [
        { name: 'api', backendRefs: [{ name: 'kube-cart-1-0-0', port: 80 }] },
        { name: 'admin', backendRefs: [{ name: 'kube-cart-admin', port: 80 }] },
      ],
    },
  });
});

describe('a write with an old fencing token', () => {
  it('is refused with StaleWriteRefused, logged with the release id, and not applied', async () => {
    const router = new GatewayApiTrafficRouter(routerConfig());
    const baseline = await router.setWeight(context(7), { weight: 10, previousWeight: 0, mode: 'weights' });
    expect(await apiRefs()).toMatchObject([
      { name: 'kube-cart-1-0-0', weight: 90 },
      { name: 'kube-cart-2-0-0', weight: 10 },
    ]);
    const fenced = await route();
    expect(fenced.metadata?.annotations?.[FENCE_TOKEN_ANNOTATION]).toBe('7');

    // An attempt that began before token 7 was handed out (a retry overtaken by a rollback) tries to write.
    const stale = router.setWeight(context(5), { weight: 50, previousWeight: 10, baseline, mode: 'weights' });
    await expect(stale).rejects.toMatchObject({
      name: 'StaleWriteRefused',
      retryable: false,
      newerToken: 7,
      message: expect.stringMatching(
        /stale write refused: HTTPRoute .*\/kube-cart carries fencing token 7 .* newer than this attempt's 5/,
      ),
    });
    expect((await route()).metadata?.resourceVersion).toBe(fenced.metadata?.resourceVersion);
    expect(logged).toContainEqual(
      expect.objectContaining({
        releaseId: facts.releaseId,
        token: 5,
        newerToken: 7,
        msg: expect.stringMatching(/^stale write refused/),
      }),
    );

    // The newer attempt (the rollback, with a newer token) goes through and restores the baseline.
    await router.setWeight(context(8), { weight: 0, previousWeight: 10, baseline, mode: 'weights' });
    expect(await apiRefs()).toMatchObject([{ name: 'kube-cart-1-0-0', port: 80 }]);
    expect((await route()).metadata?.annotations?.[FENCE_TOKEN_ANNOTATION]).toBe('8');
  });

  it('is refused on a Deployment too: an old attempt cannot undeploy what a newer one deployed', async () => {
    const config: KubernetesDeploy = KubernetesDeploySchema.parse({
      provider: 'kubernetes',
      cluster: { kubeconfig, context: WORKER_CONTEXT },
      namespace,
      template: podTemplate(service),
      pollInterval: '250ms',
    });
    const deployer = new KubernetesDeployer(config);
    await deployer.deploy(context(3), '2.0.0');
    await expect(deployer.undeploy(context(2), '2.0.0')).rejects.toMatchObject({ name: 'StaleWriteRefused' });
    expect(await admin.read<DeploymentLike>('apps/v1', 'Deployment', namespace, 'kube-cart-2-0-0')).toBeDefined();
    await deployer.undeploy(context(4), '2.0.0');
    expect(await admin.read('apps/v1', 'Deployment', namespace, 'kube-cart-2-0-0')).toBeUndefined();
    // Undeploying what is not there succeeds: compensations may run twice.
    await deployer.undeploy(context(4), '2.0.0');
  });
});

describe('a write based on a stale read', () => {
  it('is refused by the API server (409 on its resourceVersion) and changes nothing', async () => {
    const objects = new KubeObjects(kubernetesClient(routerConfig().cluster));
    const read = await route();
    await admin.apply(
      {
        ...read,
        metadata: { name: service, namespace, labels: { touched: 'by-someone-else' } },
        spec: undefined,
      } as never,
      'someone-else',
    );
    const afterTheirs = await route();
    await expect(
      objects.apply({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: service, namespace, resourceVersion: read.metadata?.resourceVersion },
        spec: { rules: [{ name: 'api', backendRefs: [{ name: 'kube-cart-2-0-0', port: 80 }] }] },
      }),
    ).rejects.toMatchObject({ name: 'ResourceVersionConflict' });
    expect(await route()).toEqual(afterTheirs);
  });

  it('is decided again on what is there now: a rule added between the read and the write is kept', async () => {
    const objects = new KubeObjects(kubernetesClient(routerConfig().cluster));
    const reads: number[] = [];
    await updateObject<HttpRouteLike>(
      context(),
      objects,
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: service, namespace } },
      async (current) => {
        if (!current) throw new Error('no route');
        reads.push(current.spec.rules.length);
        if (reads.length === 1) {
          // Someone else adds a rule after Tollgate read the route and before it writes.
          await admin.apply(
            {
              apiVersion: 'gateway.networking.k8s.io/v1',
              kind: 'HTTPRoute',
              metadata: { name: service, namespace },
              spec: { rules: [...current.spec.rules, { name: 'search', backendRefs: [{ name: 'search', port: 80 }] }] },
            } as never,
            'someone-else',
          );
        }
        return {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: service, namespace },
          spec: {
            rules: current.spec.rules.map((rule) =>
              rule.name === 'api'
                ? { ...rule, backendRefs: [{ name: 'kube-cart-2-0-0', port: 80, weight: 100 }] }
                : rule,
            ),
          },
        };
      },
    );
    expect(reads).toEqual([2, 3]);
    const after = await route();
    expect(after.spec.rules.map((rule) => rule.name)).toEqual(['api', 'admin', 'search']);
    expect(after.spec.rules[0].backendRefs).toMatchObject([{ name: 'kube-cart-2-0-0', weight: 100 }]);
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'changed since read; reading it again' }));
  });
});
