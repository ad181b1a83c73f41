import type { Actor } from '../../src/domain/spec';
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
