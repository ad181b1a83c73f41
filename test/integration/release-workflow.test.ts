import type { Actor } from '../../src/domain/spec';
import type { TestDatabase } from '../support/database';
import { startTollgate, type TollgateUnderTest } from '../support/tollgate-under-test';
import { execSpec, Journal } from '../support/exec-spec';
import type { TestWorker } from '../support/worker';
import { eventually } from '../support/eventually';

const alice: Actor = { id: 'alice', name: 'Alice', via: 'cli' };
const bob: Actor = { id: 'bob', name: 'Bob', via: 'slack' };
const mallory: Actor = { id: 'mallory', via: 'slack' };

let database: TestDatabase;
let tollgate: TestWorker;
let under: TollgateUnderTest;
let journal: Journal;

beforeAll(async () => {
  under = await startTollgate('release-workflow');
  tollgate = under.tollgate;
  database = under.database;
});

afterAll(async () => {
  await under?.stop();
});

beforeEach(() => {
  journal = new Journal();
});

afterEach(() => journal.remove());

async function waitForApproval(releaseId: string) {
  return eventually('the release to wait for approval', async () => {
    const status = await tollgate.releases.status(releaseId);
    return status.pendingApproval ? status : undefined;
  });
}

describe('a canary release', () => {
  it('goes 1 → 10 → 50 → 100 through an approval to Succeeded, and the audit log and visibility show it', async () => {
    const spec = execSpec(journal, {
      service: 'cashier',
      environment: 'production',
      steps: [
        { setWeight: 1 },
        { setWeight: 10 },
        { setWeight: 50 },
        { approval: { from: ['bob', 'group:release-managers'] } },
        { setWeight: 100 },
      ],
    });
    const { releaseId, started } = await tollgate.releases.start(spec, alice);
    expect(started).toBe(true);

    await waitForApproval(releaseId);
    const answer = await tollgate.releases.approve(releaseId, { approver: bob, comment: 'metrics look fine' });
    expect(answer.remaining).toBe(0);

    const result = await tollgate.releases.result(releaseId);
    expect(result).toMatchObject({ outcome: 'Succeeded', stableVersion: '2.0.0' });
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 1', 'setWeight 10', 'setWeight 50', 'setWeight 100']);

    const status = await tollgate.releases.status(releaseId);
    const stages = status.events.filter((event) => event.kind === 'stage').map((event) => event.stage);
    expect(stages).toEqual(['Queued', 'Planning', 'Deploying', 'Shifting', 'Succeeded']);
    expect(status.events.find((event) => event.kind === 'approval')).toMatchObject({ actor: 'bob' });

    const rows = await database.db('release_events').where({ release_id: releaseId }).orderBy('seq');
    expect(rows.map((row) => row.seq)).toEqual(status.events.map((event) => event.seq));
    expect(rows.map((row) => row.message)).toEqual(status.events.map((event) => event.message));
    const release = await database.db('releases').where({ release_id: releaseId }).first();
    expect(release).toMatchObject({ outcome: 'Succeeded', stage: 'Succeeded', initiator: 'alice', version: '2.0.0' });
    const approvals = await database.db('approvals').where({ release_id: releaseId });
    expect(approvals).toEqual([
      expect.objectContaining({ approver: 'bob', decision: 'approved', comment: 'metrics look fine' }),
    ]);

    const listed = await eventually('visibility to show the release Succeeded', async () => {
      const found = await tollgate.releases.list({ service: 'cashier' });
      return found.find((entry) => entry.releaseId === releaseId && entry.stage === 'Succeeded');
    });
    expect(listed).toMatchObject({ environment: 'production', version: '2.0.0', weight: 100, initiator: 'alice' });
  });
});

describe('rolling back', () => {
  it('runs the compensations in exact reverse order of the forward steps when the approval is rejected', async () => {
    const spec = execSpec(journal, {
      service: 'payouts',
      steps: [
        { setWeight: 1 },
        { setWeight: 10 },
        { setWeight: 50 },
        { approval: { from: ['bob'] } },
        { setWeight: 100 },
      ],
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await waitForApproval(releaseId);
    // The UI's list shows the weight the release rests at; 1% and 10%, passed through, were never listed.
    const resting = await eventually('the list to show the release resting at 50%', async () => {
      const found = await tollgate.releases.list({ service: 'payouts' });
      return found.find((entry) => entry.releaseId === releaseId && entry.weight === 50);
    });
    expect(resting.stage).toBe('Shifting');
    const history = await tollgate.releases.client.workflow.getHandle(releaseId).fetchHistory();
    const listedWeights = (history.events ?? []).flatMap((event) => {
      const field = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.ReleaseWeight;
      return field?.data ? [JSON.parse(Buffer.from(field.data).toString())] : [];
    });
    expect(listedWeights).toEqual([0, 50]);

    const answer = await tollgate.releases.reject(releaseId, { approver: bob, reason: 'p99 is up' });
    expect(answer.message).toMatch(/rolls back/);

    const result = await tollgate.releases.result(releaseId);
    expect(result).toMatchObject({ outcome: 'RolledBack', reason: 'rejected by bob: p99 is up' });
    // Forward: deploy, 1, 10, 50. Backward: traffic back to where it was before the first shift, then undeploy.
    expect(journal.lines()).toEqual([
      'deploy 2.0.0',
      'setWeight 1',
      'setWeight 10',
      'setWeight 50',
      'setWeight 0',
      'undeploy 2.0.0',
    ]);
    const status = await tollgate.releases.status(releaseId);
    expect(status.weight).toBe(0);
    const approvals = await database.db('approvals').where({ release_id: releaseId });
    expect(approvals).toEqual([
      expect.objectContaining({ approver: 'bob', decision: 'rejected', comment: 'p99 is up' }),
    ]);
  });

  it('rolls back when a step fails for good, naming the command and its error output', async () => {
    const spec = execSpec(journal, {
      service: 'search',
      steps: [{ setWeight: 1 }, { setWeight: 10 }, { setWeight: 50 }, { setWeight: 100 }],
      setWeight: `if [ "$TOLLGATE_WEIGHT" = 50 ]; then echo "router refused weight 50" >&2; exit 3; fi; ${journal.append('setWeight $TOLLGATE_WEIGHT')}`,
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    const result = await tollgate.releases.result(releaseId);

    expect(result.outcome).toBe('RolledBack');
    expect(result.reason).toMatch(/exited with status 3/);
    expect(result.reason).toMatch(/router refused weight 50/);
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 1', 'setWeight 10', 'setWeight 0', 'undeploy 2.0.0']);
  });

  it('retries a compensation that fails twice until it succeeds, and ends RolledBack', async () => {
    const counter = `${journal.dir}/undeploy-attempts`;
    const spec = execSpec(journal, {
      service: 'inventory',
      steps: [{ setWeight: 20 }, { approval: { from: ['bob'] } }],
      undeploy: `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; if [ $n -le 2 ]; then echo "scheduler busy" >&2; exit 1; fi; ${journal.append('undeploy $TOLLGATE_VERSION after $n attempts')}`,
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await waitForApproval(releaseId);
    await tollgate.releases.abort(releaseId, { actor: bob, reason: 'wrong build' });

    const result = await tollgate.releases.result(releaseId);
    expect(result).toMatchObject({ outcome: 'RolledBack', reason: 'aborted by bob: wrong build' });
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 20', 'setWeight 0', 'undeploy 2.0.0 after 3 attempts']);
  });

  it('ends Failed, naming what was not undone, when a compensation cannot succeed within the rollback timeout', async () => {
    const spec = execSpec(journal, {
      service: 'ledger',
      steps: [{ setWeight: 20 }, { approval: { from: ['bob'] } }],
      setWeight: `if [ "$TOLLGATE_WEIGHT" = 0 ]; then echo "router unreachable" >&2; exit 1; fi; ${journal.append('setWeight $TOLLGATE_WEIGHT')}`,
      execution: { rollbackTimeout: '4s' },
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await waitForApproval(releaseId);
    await tollgate.releases.reject(releaseId, { approver: bob, reason: 'not today' });

    const result = await tollgate.releases.result(releaseId);
    expect(result.outcome).toBe('Failed');
    expect(result.reason).toMatch(/compensation "restore traffic to 0% on 2.0.0" failed/);
    expect(result.reason).toMatch(/not run: undeploy 2.0.0/);
    expect(result.reason).toMatch(/by hand/);
    // The new version is left running: stopping it while it still takes traffic would drop requests.
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 20']);
  });
});

describe('approvals', () => {
  it('refuses the initiator under four-eyes and a non-approver, with their reasons, and keeps waiting', async () => {
    const spec = execSpec(journal, {
      service: 'accounts',
      environment: 'production',
      steps: [{ setWeight: 10 }, { approval: { from: ['alice', 'bob'] } }, { setWeight: 100 }],
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await waitForApproval(releaseId);

    await expect(tollgate.releases.approve(releaseId, { approver: alice })).rejects.toMatchObject({
      code: 'APPROVAL_REFUSED',
      message: expect.stringMatching(/four-eyes: alice started this production release and cannot approve it/),
    });
    await expect(tollgate.releases.approve(releaseId, { approver: mallory })).rejects.toMatchObject({
      code: 'APPROVAL_REFUSED',
      message: expect.stringMatching(/mallory is not an approver .* approvers are alice, bob/),
    });

    const waiting = await tollgate.releases.status(releaseId);
    expect(waiting.stage).toBe('Shifting');
    expect(waiting.pendingApproval?.approvals).toEqual([]);
    expect(waiting.weight).toBe(10);

    await tollgate.releases.approve(releaseId, { approver: bob });
    expect(await tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
  });

  it('needs a quorum of different people, and a group member counts as an approver', async () => {
    const spec = execSpec(journal, {
      service: 'invoicing',
      steps: [{ approval: { from: ['group:release-managers'], quorum: 2 } }, { setWeight: 100 }],
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await waitForApproval(releaseId);
    const manager = (id: string): Actor => ({ id, groups: ['release-managers'], via: 'slack' });

    expect(await tollgate.releases.approve(releaseId, { approver: manager('carol') })).toMatchObject({ remaining: 1 });
    await expect(tollgate.releases.approve(releaseId, { approver: manager('carol') })).rejects.toThrow(
      /carol has already approved/,
    );
    expect((await tollgate.releases.status(releaseId)).stage).toBe('Shifting');
    expect(await tollgate.releases.approve(releaseId, { approver: manager('dave') })).toMatchObject({ remaining: 0 });
    expect(await tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
  });

  it('refuses an approval when nothing awaits one', async () => {
    const spec = execSpec(journal, { service: 'catalog', steps: [{ setWeight: 10 }, { pause: {} }] });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await eventually('the indefinite pause', async () =>
      (await tollgate.releases.status(releaseId)).hold ? true : undefined,
    );
    await expect(tollgate.releases.approve(releaseId, { approver: bob })).rejects.toThrow(
      /nothing awaits approval: the release is Shifting/,
    );
    await tollgate.releases.promote(releaseId, { actor: bob });
    expect(await tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
  });

  it('rolls back when nobody decides before the approval timeout', async () => {
    const spec = execSpec(journal, {
      service: 'pricing',
      steps: [{ setWeight: 5 }, { approval: { from: ['bob'] } }],
      approvals: { timeout: '2s', onTimeout: 'rollback' },
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    const result = await tollgate.releases.result(releaseId);
    expect(result).toMatchObject({
      outcome: 'RolledBack',
      reason: expect.stringMatching(/no decision on "approval from bob" within 2s/),
    });
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 5', 'setWeight 0', 'undeploy 2.0.0']);
  });

  it('stops where it stands, without undoing anything, when onTimeout is fail', async () => {
    const spec = execSpec(journal, {
      service: 'shipping',
      steps: [{ setWeight: 5 }, { approval: { from: ['bob'] } }],
      approvals: { timeout: '2s', onTimeout: 'fail' },
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    const result = await tollgate.releases.result(releaseId);
    expect(result).toMatchObject({ outcome: 'Failed', reason: expect.stringMatching(/stopped where it stands/) });
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 5']);
  });
});

describe('starting a release', () => {
  it('starts one release when the same request arrives twice, and refuses a second release of an ended one', async () => {
    const spec = execSpec(journal, { service: 'reviews', steps: [{ setWeight: 10 }, { approval: { from: ['bob'] } }] });
    const first = await tollgate.releases.start(spec, alice);
    const second = await tollgate.releases.start(spec, alice);
    expect(first).toEqual({ releaseId: 'reviews:staging:2.0.0', started: true });
    expect(second).toEqual({ releaseId: 'reviews:staging:2.0.0', started: false });

    await waitForApproval(first.releaseId);
    await tollgate.releases.reject(first.releaseId, { approver: bob, reason: 'flaky' });
    await tollgate.releases.result(first.releaseId);
    await expect(tollgate.releases.start(spec, alice)).rejects.toThrow(
      /already released .* `tollgate retry reviews:staging:2.0.0`/,
    );

    const retried = await tollgate.releases.retry(first.releaseId, alice);
    expect(retried).toEqual({ releaseId: 'reviews:staging:2.0.0:retry-2', started: true });
    await waitForApproval(retried.releaseId);
    await tollgate.releases.approve(retried.releaseId, { approver: bob });
    expect(await tollgate.releases.result(retried.releaseId)).toMatchObject({ outcome: 'Succeeded' });
  });
});
