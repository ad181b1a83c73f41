import { SpecError } from '../../src/domain/errors';
import { parseReleaseSpec } from '../../src/domain/parse-spec';

const valid = `
service: checkout
environment: production
version: 2.4.0
commit: { sha: 9f1c2e7, committedAt: 2026-11-20T10:00:00Z }
deploy: { provider: exec, deploy: ./deploy.sh, undeploy: ./undeploy.sh }
traffic: { provider: exec, setWeight: ./set-weight.sh }
strategy:
  canary:
    steps:
      - setWeight: 1
      - analysis: { templates: [error-rate], duration: 5m }
      - setWeight: 10
      - pause: { duration: 10m }
      - setWeight: 50
      - approval: { from: [group:release-managers] }
      - setWeight: 100
    bake: 30m
analysis:
  error-rate: { provider: exec, command: ./check-errors.sh, interval: 30s, failureLimit: 2 }
approvals: { fourEyes: true, timeout: 24h, onTimeout: rollback }
notify: { slack: { channel: '#deploys' } }
`;

function problemsOf(text: string, overrides = {}): string[] {
  try {
    parseReleaseSpec(text, 'release.yaml', overrides);
  } catch (err) {
    if (err instanceof SpecError) return err.problems.map((problem) => `${problem.path}: ${problem.message}`);
    throw err;
  }
  throw new Error('the spec was accepted');
}

describe('the release spec', () => {
  it('accepts the example of the design document, filling in defaults', () => {
    const spec = parseReleaseSpec(valid, 'release.yaml');
    expect(spec.strategy.canary?.steps).toHaveLength(7);
    expect(spec.execution).toEqual({ attempts: 3, heartbeatTimeout: '30s', stepTimeout: '30m', rollbackTimeout: '1h' });
    expect(spec.analysis['error-rate']).toMatchObject({ failureLimit: 2, inconclusiveLimit: 0, interval: '30s' });
  });

  it('takes a database section with its defaults, and borrows the contract approvers from the strategy', () => {
    const spec = parseReleaseSpec(
      `${valid}database: { url: env:CHECKOUT_DATABASE_URL, migrations: ./migrations }\n`,
      'release.yaml',
    );
    expect(spec.database).toEqual({
      url: 'env:CHECKOUT_DATABASE_URL',
      migrations: './migrations',
      migrationsTable: 'knex_migrations',
      lockTimeout: '2s',
      busyRetryFor: '10m',
      onRollback: 'keep',
    });
  });

  it('refuses a database URL written into the spec, and a contract nobody can approve', () => {
    const noApprovals = valid.replace('      - approval: { from: [group:release-managers] }\n', '');
    expect(
      problemsOf(`${noApprovals}database: { url: 'postgres://app:hunter2@db/checkout', migrations: ./migrations }\n`),
    ).toEqual([
      expect.stringMatching(/^database\.url: looks like a URL with a password/),
      expect.stringMatching(/^database\.url: .*env:NAME/),
      expect.stringMatching(/^database\.contractApproval: contracting the schema needs an approval/),
    ]);
  });

  it('takes the version from the command line when the file leaves it out', () => {
    const spec = parseReleaseSpec(valid.replace('version: 2.4.0\n', ''), 'release.yaml', { version: '2.5.0' });
    expect(spec.version).toBe('2.5.0');
    expect(problemsOf(valid.replace('version: 2.4.0\n', ''))).toEqual([
      'version: required (set it in the spec or pass --version)',
    ]);
  });

  it('refuses a weight above 100 with the step it is in', () => {
    expect(problemsOf(valid.replace('setWeight: 50', 'setWeight: 150'))).toEqual([
      'strategy.canary.steps.4.setWeight: setWeight must be between 0 and 100',
    ]);
  });

  it('names a misspelt step key and the key it most likely meant', () => {
    expect(problemsOf(valid.replace('- setWeight: 10', '- setweight: 10'))).toEqual([
      'strategy.canary.steps.2.setweight: unknown field "setweight"; did you mean "setWeight"?',
      'strategy.canary.steps.2: a step needs one of setWeight, pause, approval, analysis, setFlag',
    ]);
  });

  it('suggests the field meant at any depth, and lists the known ones when nothing is close', () => {
    expect(
      problemsOf(
        valid.replace('service: checkout', 'service: checkout\napprovls: { timeout: 1h }').replace('bake:', 'bkae:'),
      ),
    ).toEqual([
      'strategy.canary.bkae: unknown field "bkae"; did you mean "bake"?',
      'approvls: unknown field "approvls"; did you mean "approvals"?',
    ]);
    expect(problemsOf(valid.replace('service: checkout', 'service: checkout\nowner: team-payments'))).toEqual([
      expect.stringMatching(
        /^owner: unknown field "owner"; known here: service, environment, production, version, .*errorBudget, database(, \w+)* \(docs\/spec\.md\)$/,
      ),
    ]);
  });

  it('reports an undefined analysis template in the same pass as shape errors elsewhere', () => {
    expect(
      problemsOf(
        valid
          .replace('templates: [error-rate]', 'templates: [error-rate, latency-p99]')
          .replace('setWeight: 50', 'setWeight: 150'),
      ),
    ).toEqual([
      'strategy.canary.steps.4.setWeight: setWeight must be between 0 and 100',
      expect.stringMatching(
        /^strategy\.canary\.steps\.\d\.analysis\.templates\.1: analysis template "latency-p99" is not defined/,
      ),
    ]);
  });

  it('refuses two actions in one step and says how to split it', () => {
    expect(problemsOf(valid.replace('- setWeight: 1\n', '- { setWeight: 1, pause: { duration: 1m } }\n'))).toEqual([
      'strategy.canary.steps.0: a step has exactly one of setWeight, pause, approval, analysis, setFlag (found setWeight, pause); split it into 2 steps',
    ]);
  });

  it('refuses an analysis step naming a template that is not defined', () => {
    expect(problemsOf(valid.replace('templates: [error-rate]', 'templates: [error-rate, latency-p99]'))).toEqual([
      'strategy.canary.steps.1.analysis.templates.1: analysis template "latency-p99" is not defined; add it under analysis: (defined: error-rate)',
    ]);
  });

  it('explains how to write a duration', () => {
    expect(problemsOf(valid.replace('duration: 10m', 'duration: 10 minutes'))).toEqual([
      'strategy.canary.steps.3.pause.duration: must be a duration such as "30s", "5m" or "24h" (units: ms, s, m, h, d)',
    ]);
  });

  it('refuses a secret written into the spec and says to reference it instead', () => {
    const text = valid.replace('deploy: ./deploy.sh', 'deploy: ./deploy.sh --db postgres://app:hunter2@db:5432/app');
    expect(problemsOf(text)).toEqual([
      "deploy.deploy: looks like a URL with a password; specs end up in workflow history and audit logs, so put the secret in the worker's environment and write env:NAME here",
    ]);
  });

  it('lists every problem at once, not only the first', () => {
    const text = valid
      .replace('service: checkout', 'service: Checkout_Service')
      .replace('setWeight: 1\n', 'setWeight: -5\n')
      .replace('onTimeout: rollback', 'onTimeout: ignore');
    const problems = problemsOf(text);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^service: must be lower-case letters, digits and dashes/);
    expect(problems[1]).toMatch(/^strategy\.canary\.steps\.0\.setWeight: setWeight must be between 0 and 100/);
    expect(problems[2]).toMatch(/^approvals\.onTimeout: /);
  });

  it('refuses an unknown provider and names the ones there are', () => {
    expect(problemsOf(valid.replace('deploy: { provider: exec,', 'deploy: { provider: nomad,'))).toEqual([
      'deploy.provider: deploy.provider must be one of: exec, process, kubernetes',
    ]);
  });

  it('reports a YAML syntax error with its line', () => {
    const problems = problemsOf('service: checkout\n  environment: production\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^line \d+: .*\(this is YAML syntax; check indentation and quotes\)$/);
  });

  it('refuses a spec with no strategy, or with two', () => {
    expect(problemsOf(valid.replace(/strategy:[\s\S]*?bake: 30m\n/, ''))).toContain('strategy: required');
    const both = valid.replace('strategy:\n', 'strategy:\n  rolling: { replicas: 3 }\n');
    expect(problemsOf(both)).toEqual([
      'strategy: choose exactly one of canary, blueGreen, rolling, recreate (found canary, rolling)',
    ]);
  });
});
