import { validateReleaseSpec } from '../../src/domain/parse-spec';
import { rolloutState } from '../../src/providers/kubernetes/rollout-status';
import { labelValue, versionObjectName } from '../../src/providers/kubernetes/version-names';
import { apportion } from '../../src/providers/traffic/gateway-api';

const deploy = {
  provider: 'kubernetes',
  namespace: 'shop',
  template: { spec: { containers: [{ name: 'app', image: 'registry.example.com/shop:{{version}}' }] } },
  service: { ports: [{ port: 80, targetPort: 8080 }] },
};
const gateway = { provider: 'gateway-api', namespace: 'shop', httpRoute: 'shop', port: 80 };
const base = {
  service: 'shop',
  environment: 'staging',
  version: '2.0.0',
  deploy,
  traffic: gateway,
  strategy: { canary: { steps: [{ setWeight: 10 }] } },
};

describe('Kubernetes specs', () => {
  it('fill in the defaults: the default kubeconfig, one replica, a ten-minute progress deadline', () => {
    const spec = validateReleaseSpec(base, 'spec');
    expect(spec.deploy).toMatchObject({
      cluster: { inCluster: false },
      replicas: 1,
      progressDeadline: '10m',
      pollInterval: '1s',
    });
  });

  it('refuse a Gateway API canary whose versions get no Service to route to', () => {
    expect(() => validateReleaseSpec({ ...base, deploy: { ...deploy, service: undefined } }, 'spec')).toThrow(
      /deploy\.service: an HTTPRoute sends to Services: add deploy\.service/,
    );
  });

  it('refuse a Service selector for a canary: it cannot split traffic', () => {
    const traffic = { provider: 'service-selector', namespace: 'shop', service: 'shop' };
    expect(() => validateReleaseSpec({ ...base, traffic }, 'spec')).toThrow(
      /traffic\.provider: a Service selector moves all traffic at once/,
    );
    expect(validateReleaseSpec({ ...base, traffic, strategy: { blueGreen: {} } }, 'spec').traffic?.provider).toBe(
      'service-selector',
    );
  });

  it('refuse Kubernetes traffic to versions deployed elsewhere', () => {
    expect(() => validateReleaseSpec({ ...base, traffic: { ...gateway, namespace: 'other' } }, 'spec')).toThrow(
      /traffic\.namespace: must be the namespace the versions are deployed to \(deploy\.namespace: shop\)/,
    );
    expect(() =>
      validateReleaseSpec({ ...base, deploy: { provider: 'exec', deploy: './d.sh', undeploy: './u.sh' } }, 'spec'),
    ).toThrow(/deploy\.provider: traffic\.provider gateway-api routes to the pods of Deployments Tollgate made/);
  });

  it('refuse a pod template without containers and a namespace that is not a Kubernetes name', () => {
    expect(() =>
      validateReleaseSpec(
        { ...base, deploy: { ...deploy, namespace: 'Shop_1', template: { spec: { containers: [] } } } },
        'spec',
      ),
    ).toThrow(
      /deploy\.namespace: must be a Kubernetes name[\s\S]*deploy\.template\.spec\.containers: a pod template needs at least one container/,
    );
  });
});

describe('names of versions', () => {
  it('are DNS labels made from service and version', () => {
    expect(versionObjectName('checkout', '2.4.0')).toBe('checkout-2-4-0');
    expect(versionObjectName('checkout', 'V2.4.0-RC.1+build.7')).toBe('checkout-v2-4-0-rc-1-build-7');
    const long = versionObjectName('checkout', `1.0.0-${'x'.repeat(80)}`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^checkout-1-0-0-x+-[0-9a-f]{8}$/);
  });

  it('keep label values within what Kubernetes accepts', () => {
    expect(labelValue('2.4.0+build.7')).toBe('2.4.0_build.7');
    expect(labelValue('shop:staging:2.0.0')).toBe('shop_staging_2.0.0');
    expect(labelValue('x'.repeat(100))).toMatch(/^x{54}-[0-9a-f]{8}$/);
  });
});

describe('a Deployment rollout', () => {
  const deployment = (status: object, generation = 2) => ({ metadata: { generation }, spec: { replicas: 3 }, status });

  it('is ready when the controller saw the spec and every replica is updated and available', () => {
    expect(
      rolloutState(deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 })),
    ).toEqual({
      state: 'ready',
    });
  });

  it('is still progressing while the controller has not seen the spec, or replicas are missing or old', () => {
    expect(
      rolloutState(deployment({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 })).state,
    ).toBe('progressing');
    expect(
      rolloutState(deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 })),
    ).toEqual({
      state: 'progressing',
      detail: '2 of 3 replicas updated',
    });
    expect(
      rolloutState(deployment({ observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 })),
    ).toEqual({
      state: 'progressing',
      detail: '1 old replicas still running',
    });
  });

  it('has failed when the controller reports ProgressDeadlineExceeded', () => {
    const conditions = [
      {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: 'ReplicaSet "x" has timed out progressing.',
      },
    ];
    expect(rolloutState(deployment({ observedGeneration: 2, conditions }))).toEqual({
      state: 'failed',
      reason: 'ProgressDeadlineExceeded: ReplicaSet "x" has timed out progressing.',
    });
  });
});

describe('weights of the baseline backends', () => {
  it('share what the canary leaves in their old proportions, in whole numbers that add up', () => {
    expect(apportion([1], 90)).toEqual([90]);
    expect(apportion([3, 1], 90)).toEqual([68, 22]);
    expect(apportion([1, 1, 1], 50)).toEqual([17, 17, 16]);
    expect(apportion([0, 0], 40)).toEqual([40, 0]);
  });
});
