import { pipelineDeliveryMetrics } from '../../src/audit/pipeline-dora';
import { PipelineClient } from '../../src/client/pipeline-client';
import type { Actor } from '../../src/domain/spec';
import { loadPipelineFile } from '../../src/specs/load-pipeline-file';
import { eventually } from '../support/eventually';
import { letDeploysGo, writePipelineFiles } from '../support/pipeline-files';
import { startTollgate, type TollgateUnderTest } from '../support/tollgate-under-test';
import { execSpec, Journal } from '../support/exec-spec';
import { SmokeTarget } from '../support/smoke-target';
import type { TestWorker } from '../support/worker';

const alice: Actor = { id: 'alice', name: 'Alice', via: 'cli' };

let under: TollgateUnderTest;
let tollgate: TestWorker;
let journal: Journal;
let target: SmokeTarget;

beforeAll(async () => {
  under = await startTollgate('pipelines');
  tollgate = under.tollgate;
  target = new SmokeTarget();
  await target.start();
});

afterAll(async () => {
  await under?.stop();
  await target?.stop();
});

beforeEach(() => {
  journal = new Journal();
});

afterEach(() => journal.remove());

describe('post-deploy verification', () => {
  it('runs the smoke checks once the new version takes all traffic, and the release succeeds when they pass', async () => {
    const spec = execSpec(journal, {
      service: 'verify-pass',
      version: '1.0.0',
      steps: [{ setWeight: 50 }, { setWeight: 100 }],
      verification: {
        checks: [
          { name: 'health', http: { url: target.url, expect: { status: [200], bodyContains: 'ok' } } },
          {
            name: 'login',
            exec: { command: journal.append('smoke $TOLLGATE_VERSION'), env: { JOURNAL: journal.file } },
          },
        ],
        interval: '100ms',
      },
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    const result = await tollgate.releases.result(releaseId);

    expect(result.outcome).toBe('Succeeded');
    expect(result.verification).toMatchObject({
      passed: true,
      checks: [
        { name: 'health', kind: 'http', passed: true, attempts: 1 },
        { name: 'login', kind: 'exec', passed: true, attempts: 1 },
      ],
    });
    // After the last shift and before anything else: the checks ran against the version serving all traffic.
    expect(journal.lines()).toEqual(['deploy 1.0.0', 'setWeight 50', 'setWeight 100', 'smoke 1.0.0']);
    expect(target.requests).toContain('/staging/1.0.0/healthz');
    const status = await tollgate.releases.status(releaseId);
    expect(status.events.map((event) => event.stage)).toContain('Verifying');
  });

  it('rolls the release back when a smoke check keeps failing, and the outcome names the check', async () => {
    target.breakVersion('1.0.1');
    const spec = execSpec(journal, {
      service: 'verify-fail',
      version: '1.0.1',
      steps: [{ setWeight: 100 }],
      verification: {
        checks: [
          { name: 'health', http: { url: target.url } },
          {
            name: 'login',
            exec: { command: journal.append('smoke $TOLLGATE_VERSION'), env: { JOURNAL: journal.file } },
          },
        ],
        attempts: 2,
        interval: '100ms',
      },
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    const result = await tollgate.releases.result(releaseId);

    expect(result.outcome).toBe('RolledBack');
    expect(result.reason).toMatch(
      /^smoke check "health" failed after 2 attempts: GET http:\/\/127\.0\.0\.1:\d+\/staging\/1\.0\.1\/healthz: status 500, expected 200/,
    );
    expect(result.verification).toMatchObject({ passed: false, failedCheck: 'health' });
    // The later check never ran; the rollback undid the shift and the deploy.
    expect(journal.lines()).toEqual(['deploy 1.0.1', 'setWeight 100', 'setWeight 0', 'undeploy 1.0.1']);
    expect(target.requests.filter((url) => url === '/staging/1.0.1/healthz')).toHaveLength(2);
  });
});

describe('a pipeline', () => {
  let pipelines: PipelineClient;
  beforeAll(() => {
    pipelines = new PipelineClient(tollgate.client, tollgate.taskQueue);
  });
  const commitAt = (sha: string, minutesAgo: number) => ({
    sha,
    committedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
  });

  it('goes staging → production on a passing smoke check: both Succeeded, each a child of one pipeline run', async () => {
    const file = writePipelineFiles(journal, {
      service: 'pipe-pass',
      verification: { checks: [{ name: 'health', http: { url: target.url } }], interval: '100ms' },
      environments: [
        { name: 'staging' },
        {
          name: 'production',
          overrides: { strategy: { canary: { steps: [{ setWeight: 50 }, { setWeight: 100 }] } } },
        },
      ],
    });
    const loaded = loadPipelineFile(file, { commit: commitAt('aaa1111', 30), version: '3.0.0' });
    const { pipelineId, started } = await pipelines.start(loaded, alice);
    expect(started).toBe(true);
    const result = await pipelines.result(pipelineId);

    expect(result.outcome).toBe('Succeeded');
    expect(result.environments).toMatchObject([
      {
        environment: 'staging',
        state: 'Succeeded',
        releaseId: 'pipe-pass:staging:3.0.0',
        verification: { passed: true },
      },
      {
        environment: 'production',
        state: 'Succeeded',
        releaseId: 'pipe-pass:production:3.0.0',
        verification: { passed: true },
      },
    ]);
    // Production was released only after staging was verified, with its own strategy.
    expect(journal.lines()).toEqual([
      'deploy staging 3.0.0',
      'setWeight staging 3.0.0 100',
      'deploy production 3.0.0',
      'setWeight production 3.0.0 50',
      'setWeight production 3.0.0 100',
    ]);
    expect(target.requests).toEqual(expect.arrayContaining(['/staging/3.0.0/healthz', '/production/3.0.0/healthz']));
    // One pipeline history; each environment a child release with its own history and lane.
    for (const environment of result.environments) {
      const description = await tollgate.client.workflow.getHandle(environment.releaseId ?? '').describe();
      expect(description.parentExecution?.workflowId).toBe(pipelineId);
      expect(description.type).toBe('releaseWorkflow');
    }
    const status = await pipelines.status(pipelineId);
    expect(status.outcome).toEqual({ outcome: 'Succeeded' });
  });

  it('stops before production when the smoke check fails in staging, and says why', async () => {
    target.breakVersion('3.1.0');
    const file = writePipelineFiles(journal, {
      service: 'pipe-fail',
      verification: { checks: [{ name: 'health', http: { url: target.url } }], attempts: 2, interval: '100ms' },
      environments: [{ name: 'staging' }, { name: 'production' }],
    });
    const loaded = loadPipelineFile(file, { commit: commitAt('bbb2222', 20), version: '3.1.0' });
    const { pipelineId } = await pipelines.start(loaded, alice);
    const result = await pipelines.result(pipelineId);

    expect(result.outcome).toBe('Failed');
    expect(result.reason).toMatch(
      /^stopped before production: staging RolledBack: smoke check "health" failed after 2 attempts: GET .*\/staging\/3\.1\.0\/healthz: status 500/,
    );
    expect(result.environments).toMatchObject([
      { environment: 'staging', state: 'RolledBack', verification: { passed: false, failedCheck: 'health' } },
      { environment: 'production', state: 'skipped' },
    ]);
    expect(journal.lines()).toEqual([
      'deploy staging 3.1.0',
      'setWeight staging 3.1.0 100',
      'setWeight staging 3.1.0 0',
      'undeploy staging 3.1.0',
    ]);
  });

  it('lets the newest of three quick commits reach production; the older runs stop before it, and nothing runs twice', async () => {
    const file = writePipelineFiles(journal, {
      service: 'pipe-super',
      // The first staging release holds until all three runs have started, so the order never depends on speed.
      holdDeployWhen: '[ "$TOLLGATE_ENVIRONMENT" = staging ]',
      environments: [{ name: 'staging' }, { name: 'production' }],
    });
    const commits = [commitAt('ccc0001', 3), commitAt('ccc0002', 2), commitAt('ccc0003', 1)];
    const ids: string[] = [];
    for (const [index, commit] of commits.entries()) {
      const loaded = loadPipelineFile(file, { commit, version: `4.0.${index + 1}` });
      ids.push((await pipelines.start(loaded, alice)).pipelineId);
    }
    // The head has seen all three, and told the two older runs (the first by whichever newer run it heard of first).
    await eventually('the older runs to be superseded', async () => {
      const [first, middle] = await Promise.all(ids.slice(0, 2).map((id) => pipelines.status(id)));
      return first.supersededBy && middle.supersededBy === 'ccc0003' ? true : undefined;
    });
    letDeploysGo(journal);
    const [first, middle, newest] = await Promise.all(ids.map((id) => pipelines.result(id)));

    expect(middle).toMatchObject({ outcome: 'Superseded', supersededBy: 'ccc0003' });
    expect(middle.reason).toMatch(/^superseded by ccc0003; stopped before (staging|production)$/);
    expect(middle.environments[1]).toMatchObject({ environment: 'production', state: 'skipped' });
    expect(first).toMatchObject({ outcome: 'Superseded', supersededBy: expect.stringMatching(/^ccc000[23]$/) });
    expect(first.environments[1].state).toBe('skipped');
    expect(newest.outcome).toBe('Succeeded');
    expect(newest.environments.map((environment) => environment.state)).toEqual(['Succeeded', 'Succeeded']);

    const deploys = journal.lines().filter((line) => line.startsWith('deploy '));
    expect(deploys.filter((line) => line.startsWith('deploy production'))).toEqual(['deploy production 4.0.3']);
    expect(new Set(deploys).size).toBe(deploys.length);
    const head = await pipelines.head('pipe-super');
    expect(head.newest?.sha).toBe('ccc0003');
  });
});

describe('tollgate dora --pipeline', () => {
  it('measures lead time from the commit to production, deploys per environment, and failures in production only', async () => {
    const pipelines = new PipelineClient(tollgate.client, tollgate.taskQueue);
    const since = new Date();
    const committedAt = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const file = writePipelineFiles(journal, {
      service: 'pipe-dora',
      verification: { checks: [{ name: 'health', http: { url: target.url } }], attempts: 1, interval: '100ms' },
      environments: [{ name: 'staging' }, { name: 'production' }],
    });
    const good = await pipelines.start(
      loadPipelineFile(file, { commit: { sha: 'ddd0001', committedAt }, version: '5.0.0' }),
      alice,
    );
    expect((await pipelines.result(good.pipelineId)).outcome).toBe('Succeeded');
    target.breakVersion('5.0.1');
    const bad = await pipelines.start(
      loadPipelineFile(file, { commit: { sha: 'ddd0002', committedAt: new Date().toISOString() }, version: '5.0.1' }),
      alice,
    );
    expect((await pipelines.result(bad.pipelineId)).outcome).toBe('Failed');

    const query = { service: 'pipe-dora', environments: ['staging', 'production'], since };
    const metrics = await pipelineDeliveryMetrics(under.database.db, query);
    const production = await under.database.db('releases').where({ release_id: 'pipe-dora:production:5.0.0' }).first();
    const expectedLead = new Date(production.finished_at).getTime() - Date.parse(committedAt);
    expect(metrics.production).toBe('production');
    expect(metrics.leadTimeToProduction).toMatchObject({ measured: 1, medianMs: expectedLead });
    expect(metrics.deploymentFrequency.map((e) => [e.environment, e.frequency.deployments])).toEqual([
      ['staging', 1],
      ['production', 1],
    ]);
    // The smoke check that failed in staging kept the change from users: production never failed.
    expect(metrics.changeFailureRate).toMatchObject({ failed: 0, finished: 1, rate: 0 });
    const everywhere = await pipelineDeliveryMetrics(under.database.db, { ...query, failuresIn: 'all' });
    expect(everywhere.changeFailureRate).toMatchObject({ failed: 1, finished: 3 });
  });
});
