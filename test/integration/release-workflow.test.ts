import { migrateToLatest } from '../../src/audit/database';
import type { Actor } from '../../src/domain/spec';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { execSpec, Journal } from '../support/exec-spec';
import { eventually, startTestWorker, type TestWorker } from '../support/worker';

const alice: Actor = { id: 'alice', name: 'Alice', via: 'cli' };
const bob: Actor = { id: 'bob', name: 'Bob', via: 'slack' };
const mallory: Actor = { id: 'mallory', via: 'slack' };

let database: TestDatabase;
let tollgate: TestWorker;
let journal: Journal;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  tollgate = await startTestWorker({ db: database.db, taskQueue: `release-workflow-${Date.now()}` });
});

afterAll(async () => {
  await tollgate?.stop();
  await database?.drop();
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
      service: 'checkout',
      environment: 'production',
      steps: [{ setWeight: 1 }, { setWeight: 10 }, { setWeight: 50 }, { approval: { from: ['bob', 'group:release-managers'] } }, { setWeight: 100 }],
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
    expect(approvals).toEqual([expect.objectContaining({ approver: 'bob', decision: 'approved', comment: 'metrics look fine' })]);

    const listed = await eventually('visibility to show the release Succeeded', async () => {
      const found = await tollgate.releases.list({ service: 'checkout' });
      return found.find((entry) => entry.releaseId === releaseId && entry.stage === 'Succeeded');
    });
    expect(listed).toMatchObject({ environment: 'production', version: '2.0.0', weight: 100, initiator: 'alice' });
  });
});
