import path from 'node:path';
import { SpecError } from '../../src/domain/errors';
import { flagsToCleanUp } from '../../src/domain/flags';
import { parseReleaseSpec } from '../../src/domain/parse-spec';
import { planRelease } from '../../src/domain/plan';
import type { ReleaseStatus } from '../../src/domain/release';
import { renderStatus } from '../../src/cli/render-status';
import { renderReleaseMessage } from '../../src/slack/release-message';
import { loadSpecFile } from '../../src/specs/load-spec-file';
import { blocksProblem } from '../support/fake-slack';

const base = `
service: checkout
environment: production
version: 2.4.0
deploy: { provider: exec, deploy: ./deploy.sh, undeploy: ./undeploy.sh }
traffic: { provider: exec, setWeight: ./set-weight.sh }
`;

function problemsOf(text: string): string[] {
  try {
    parseReleaseSpec(text, 'release.yaml');
  } catch (err) {
    if (err instanceof SpecError) return err.problems.map((problem) => `${problem.path}: ${problem.message}`);
    throw err;
  }
  throw new Error('the spec was accepted');
}

function status(overrides: Partial<ReleaseStatus>): ReleaseStatus {
  return {
    releaseId: 'checkout:production:2.4.0',
    service: 'checkout',
    environment: 'production',
    version: '2.4.0',
    initiator: { id: 'U0ALICE', via: 'slack' },
    strategy: 'canary',
    stage: 'Succeeded',
    weight: 100,
    steps: [{ label: 'setFlag new-checkout at 100%', state: 'done' }],
    decisions: [],
    startedAt: '2026-11-23T10:00:00Z',
    updatedAt: '2026-11-23T10:01:00Z',
    events: [],
    ...overrides,
  };
}

describe('setFlag steps in the release spec', () => {
  it('accepts the example, and plans each flag change as a step of its own', () => {
    const spec = loadSpecFile(path.join(__dirname, '../../examples/feature-flags/release.yaml'));
    expect(spec.flags).toMatchObject({ provider: 'unleash', token: 'env:UNLEASH_ADMIN_TOKEN', timeout: '10s' });
    const labels = planRelease(spec).steps.map((step) => step.label);
    expect(labels).toEqual([
      'setWeight 100',
      'setFlag new-checkout at 100% (internal-users)',
      'analysis smoke',
      'setFlag new-checkout at 5%',
      'analysis smoke for 5s',
      'setFlag new-checkout at 50%',
      'approval from bob, group:release-managers',
      'setFlag new-checkout at 100%',
    ]);
  });

  it('refuses setFlag steps without a flag service, and percentages outside 0 to 100', () => {
    const steps = `strategy:\n  canary:\n    steps:\n      - setWeight: 100\n      - setFlag: { flag: new-checkout, percentage: 150 }\n`;
    expect(problemsOf(base + steps)).toContain(
      'strategy.canary.steps.1.setFlag.percentage: percentage must be between 0 and 100',
    );
    expect(problemsOf(base + steps.replace('150', '50'))).toEqual([
      expect.stringMatching(/^strategy\.canary\.steps\.1\.setFlag: a setFlag step needs a flag service: add flags:/),
    ]);
  });

  it('keeps the Unleash token out of the spec: it must be env:NAME', () => {
    const text = `${base}flags: { provider: unleash, url: http://unleash:4242, token: abc123 }\nstrategy: { canary: { steps: [{ setFlag: { flag: f, percentage: 5 } }] } }\n`;
    expect(problemsOf(text)).toEqual([
      'flags.token: must name an environment variable of the worker, written env:NAME',
    ]);
  });
});

describe('flags left on for everyone', () => {
  const flags = [
    { flag: 'new-checkout', percentage: 100 },
    { flag: 'beta-search', percentage: 100, segment: 'internal-users' },
    { flag: 'dark-mode', percentage: 50 },
  ];

  it('are listed for clean-up once the release has Succeeded, not before and not after a rollback', () => {
    expect(flagsToCleanUp(status({ flags, outcome: { stage: 'Succeeded' } }))).toEqual(['new-checkout']);
    expect(flagsToCleanUp(status({ flags, stage: 'Baking' }))).toEqual([]);
    expect(
      flagsToCleanUp(
        status({ flags: [{ flag: 'new-checkout', percentage: 100, restored: true }], outcome: { stage: 'Succeeded' } }),
      ),
    ).toEqual([]);
  });

  it('show in `tollgate status` and in the Slack message', () => {
    const done = status({ flags, outcome: { stage: 'Succeeded' } });
    const text = renderStatus(done, undefined, 0);
    expect(text).toContain('feature flags');
    expect(text).toContain('beta-search at 100% (internal-users)');
    expect(text).toContain('clean up (on for everyone; remove from code and archive): new-checkout');
    const message = renderReleaseMessage(done, 'http://localhost:8233');
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain('*Feature flags*');
    expect(blocks).toContain('clean up, on for everyone: `new-checkout`');
    expect(blocksProblem(message.blocks, 50)).toBeUndefined();
  });
});
