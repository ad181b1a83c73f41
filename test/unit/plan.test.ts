import { planRelease } from '../../src/domain/plan';
import { validateReleaseSpec } from '../../src/domain/parse-spec';
import type { ReleaseSpecInput } from '../../src/domain/spec';

const base: Omit<ReleaseSpecInput, 'strategy'> = {
  service: 'checkout',
  environment: 'staging',
  version: '1.0.0',
  deploy: { provider: 'exec', deploy: 'true', undeploy: 'true' },
  traffic: { provider: 'exec', setWeight: 'true' },
  analysis: { smoke: { provider: 'exec', command: 'true' } },
};
const plan = (strategy: ReleaseSpecInput['strategy']) =>
  planRelease(validateReleaseSpec({ ...base, strategy }, 'test'));

describe('the step plan', () => {
  it('promotes a canary fully when its last step leaves it below 100%, as Argo Rollouts does', () => {
    const { steps } = plan({ canary: { steps: [{ setWeight: 10 }, { pause: { duration: '1m' } }] } });
    expect(steps.map((step) => step.label)).toEqual(['setWeight 10', 'pause 1m', 'full promotion: setWeight 100']);
  });

  it('keeps a canary that ends at 100% as written, and reads the bake', () => {
    const result = plan({ canary: { steps: [{ setWeight: 50 }, { setWeight: 100 }], bake: '30m' } });
    expect(result.steps.map((step) => step.label)).toEqual(['setWeight 50', 'setWeight 100']);
    expect(result.bakeMs).toBe(30 * 60_000);
  });

  it('makes blue-green one switch after its checks', () => {
    const { steps } = plan({
      blueGreen: { prePromotionAnalysis: { templates: ['smoke'] }, approval: { from: ['bob'] }, bake: '10m' },
    });
    expect(steps.map((step) => step.label)).toEqual(['analysis smoke', 'approval from bob', 'switch to green']);
  });

  it('moves a rolling release in batches of maxSurge, checking between batches', () => {
    const { steps } = plan({ rolling: { replicas: 5, maxSurge: 2, analysis: { templates: ['smoke'] } } });
    expect(steps.map((step) => step.label)).toEqual([
      'batch 1/3: 2 of 5 replaced',
      'analysis smoke',
      'batch 2/3: 4 of 5 replaced',
      'analysis smoke',
      'batch 3/3: 5 of 5 replaced',
    ]);
    expect(
      steps.filter((step) => step.kind === 'setWeight').map((step) => step.kind === 'setWeight' && step.weight),
    ).toEqual([40, 80, 100]);
  });
});

describe('the step plan of a Deployment updated in place', () => {
  const kubernetes = {
    ...base,
    deploy: {
      provider: 'kubernetes' as const,
      namespace: 'shop',
      deployment: 'checkout',
      replicas: 4,
      template: { spec: { containers: [{ name: 'app', image: 'registry.example.com/checkout:{{version}}' }] } },
    },
    traffic: undefined,
  };
  const planFor = (strategy: ReleaseSpecInput['strategy']) =>
    planRelease(validateReleaseSpec({ ...kubernetes, strategy }, 'test'));

  it('replaces every pod at once for recreate, then runs its analysis', () => {
    const result = planFor({ recreate: { analysis: { templates: ['smoke'] }, bake: '5m' } });
    expect(result.strategy).toBe('recreate');
    expect(result.steps).toEqual([
      {
        kind: 'rollout',
        rollout: { updated: 4, replicas: 4, update: { type: 'Recreate' }, final: true },
        label: 'recreate: all 4 replicas replaced at once',
      },
      expect.objectContaining({ kind: 'analysis', label: 'analysis smoke' }),
    ]);
    expect(result.bakeMs).toBe(5 * 60_000);
  });

  it("holds Kubernetes' RollingUpdate after each batch for the analysis, and lets the last batch finish", () => {
    const { steps } = planFor({
      rolling: { replicas: 4, maxSurge: 2, maxUnavailable: 1, analysis: { templates: ['smoke'] } },
    });
    expect(steps.map((step) => step.label)).toEqual([
      'batch 1/2: at least 2 of 4 replaced',
      'analysis smoke',
      'rolling update: all 4 replicas',
    ]);
    expect(steps[0]).toMatchObject({
      rollout: { updated: 2, final: false, update: { type: 'RollingUpdate', maxSurge: 2, maxUnavailable: 1 } },
    });
  });

  it('leaves a rolling update without an analysis to Kubernetes in one step', () => {
    expect(planFor({ rolling: { replicas: 4 } }).steps.map((step) => step.label)).toEqual([
      'rolling update: all 4 replicas',
    ]);
  });

  it('refuses what cannot work in place: a canary, a traffic provider, replicas that disagree', () => {
    expect(() => planFor({ canary: { steps: [{ setWeight: 10 }] } })).toThrow(
      /strategy: deploy\.deployment updates one Deployment in place: use strategy\.recreate or strategy\.rolling/,
    );
    expect(() =>
      validateReleaseSpec(
        { ...kubernetes, traffic: { provider: 'exec', setWeight: 'true' }, strategy: { recreate: {} } },
        'test',
      ),
    ).toThrow(/traffic: a Deployment updated in place has no traffic to split/);
    expect(() => planFor({ rolling: { replicas: 3 } })).toThrow(
      /strategy\.rolling\.replicas: must be the Deployment's replicas \(deploy\.replicas: 4\)/,
    );
    expect(() => validateReleaseSpec({ ...base, strategy: { recreate: {} } }, 'test')).toThrow(
      /strategy\.recreate: recreate replaces one Deployment in place/,
    );
  });
});
