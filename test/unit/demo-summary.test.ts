import { fitToWidth } from '../../src/demo/fit-line';
import { renderSummary, whyItEnded } from '../../src/demo/summary';

describe("the demo's summary and live view", () => {
  it('cuts long lines on character boundaries, never through an emoji', () => {
    const line = `${'x'.repeat(8)}✅🚦 rolled back`;
    const cut = fitToWidth(line, 10);
    expect(cut).toBe('xxxxxxxx✅…');
    expect(cut).not.toMatch(/[\uD800-\uDFFF]/); // no lone half of a surrogate pair
    expect(fitToWidth('short', 10)).toBe('short');
  });

  it('says which checks failed, with their evidence, for a release its analysis rolled back', () => {
    const why = whyItEnded({
      outcome: {
        stage: 'RolledBack',
        reason: 'analysis failed: smoke: Failed (0 ok, 1 failed, 0 inconclusive, 0 errors of 1; failureLimit 0)',
      },
      lastAnalysis: {
        stepLabel: 'analysis smoke, error-rate at 1%',
        verdict: 'Failed',
        templates: [
          {
            template: 'smoke',
            provider: 'http',
            verdict: 'Failed',
            summary: '',
            measurements: [
              { phase: 'Successful', message: 'GET /healthz: 200', at: '' },
              { phase: 'Failed', message: 'GET /checkout: 500 (3 of 10 requests failed)', at: '' },
            ],
          },
          { template: 'error-rate', provider: 'prometheus', verdict: 'Successful', summary: '', measurements: [] },
        ],
      },
    } as unknown as Parameters<typeof whyItEnded>[0]);
    expect(why).toBe('failed check: smoke (GET /checkout: 500 (3 of 10 requests failed))');
    expect(whyItEnded({ outcome: { stage: 'Succeeded', reason: '2.0.0 serves all traffic' } })).toBe(
      '2.0.0 serves all traffic',
    );
  });

  it('lines the summary up in columns whatever characters the cells hold', () => {
    const table = renderSummary([
      {
        release: 'v2',
        version: '2.0.0',
        expected: 'Succeeded',
        outcome: 'Succeeded',
        seconds: 20,
        requests: 2400,
        failed: 0,
        reason: 'ok',
      },
      {
        release: 'v3: fails 30%',
        version: '3.0.0',
        expected: 'RolledBack',
        outcome: 'RolledBack',
        seconds: 3,
        requests: 300,
        failed: 12,
        reason: 'failed check: smoke',
      },
    ]).split('\n');
    const whyColumn = [...table[0]].join('').indexOf('why');
    for (const line of table.slice(2)) expect([...line].length).toBeGreaterThan(whyColumn);
    expect(table[3]).toMatch(/^v3: fails 30% +3\.0\.0 +RolledBack +RolledBack ✓ +3\.0s +300 +12 +failed check: smoke$/);
    expect(table[2].slice(whyColumn)).toBe('ok');
  });
});
