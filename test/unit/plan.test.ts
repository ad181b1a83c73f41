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
