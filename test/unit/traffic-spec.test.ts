import { validateReleaseSpec } from '../../src/domain/parse-spec';
import { planRelease } from '../../src/domain/plan';
import { renderQuery } from '../../src/domain/query-template';

const base = {
  service: 'shop',
  environment: 'staging',
  version: '2.0.0',
  deploy: { provider: 'process', command: 'node server.js', instances: 2 },
  traffic: { provider: 'haproxy', runtimeApi: '/run/haproxy/admin.sock', backend: 'shop' },
  strategy: { canary: { steps: [{ setWeight: 10 }, { analysis: { templates: ['errors'] } }] } },
};
const prometheus = {
  provider: 'prometheus',
  address: 'http://prometheus:9090',
  query: 'up{service="{{service}}"}',
  successCondition: 'result == 1',
};

describe('specs for HAProxy, processes and Prometheus', () => {
  it('fills in the defaults a reader would expect', () => {
    const spec = validateReleaseSpec({ ...base, analysis: { errors: prometheus } }, 'spec');
    expect(spec.deploy).toMatchObject({
      provider: 'process',
      host: '127.0.0.1',
      readiness: { path: '/healthz', timeout: '60s' },
    });
    expect(spec.traffic).toMatchObject({ provider: 'haproxy', timeout: '5s', serverPrefix: '' });
    expect(spec.analysis.errors).toMatchObject({ interval: '30s', failureLimit: 0, inconclusiveLimit: 0 });
  });

  it('refuses a misspelt placeholder and a condition that does not parse, naming both', () => {
    const bad = { ...prometheus, query: 'up{version="{{canaryVerison}}"}', successCondition: 'result <' };
    expect(() => validateReleaseSpec({ ...base, analysis: { errors: bad } }, 'spec')).toThrow(
      /analysis\.errors\.query: unknown placeholder \{\{canaryVerison\}\}/,
    );
    expect(() =>
      validateReleaseSpec({ ...base, analysis: { errors: { ...prometheus, successCondition: 'result <' } } }, 'spec'),
    ).toThrow(/analysis\.errors\.successCondition: "result <" is not a condition over result/);
  });

  it('puts the post-promotion analysis of a blue-green release after its one switch', () => {
    const spec = validateReleaseSpec(
      {
        ...base,
        strategy: {
          blueGreen: {
            prePromotionAnalysis: { templates: ['errors'] },
            postPromotionAnalysis: { templates: ['errors'] },
          },
        },
        analysis: { errors: prometheus },
      },
      'spec',
    );
    expect(planRelease(spec).steps.map((step) => step.label)).toEqual([
      'analysis errors',
      'switch to green',
      'analysis errors',
    ]);
  });

  it('escapes facts in PromQL so a value can never end its string', () => {
    const facts = { releaseId: 'r', service: 'shop', environment: 'prod', version: '2"0', initiator: 'a', attempt: 1 };
    expect(renderQuery('x{v="{{canaryVersion}}"}', facts)).toBe('x{v="2\\"0"}');
    expect(() => renderQuery('x{v="{{stableVersion}}"}', facts)).toThrow(/first release of its lane/);
  });
});
