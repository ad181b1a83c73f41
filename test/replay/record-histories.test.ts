import path from 'node:path';
import { saveHistory } from '../support/exported-history';
import { migrateToLatest } from '../../src/audit/database';
import { laneIdFor } from '../../src/domain/release';
import type { Actor } from '../../src/domain/spec';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { execSpec, Journal } from '../support/exec-spec';
import { startTestWorker, type TestWorker } from '../support/worker';
import { eventually } from '../support/eventually';

/**
 * Records the histories that test/replay/replay.test.ts replays. Run it when a workflow change is
 * meant to change histories (and guard the change with patched() if releases may be running):
 *
 *   RECORD_HISTORIES=1 npx jest test/replay/record-histories.test.ts
 */
const recording = process.env.RECORD_HISTORIES === '1';
const HISTORIES = path.join(__dirname, 'histories');
const alice: Actor = { id: 'alice', via: 'cli' };
const bob: Actor = { id: 'bob', via: 'slack' };

(recording ? describe : describe.skip)('recording histories for replay', () => {
  let database: TestDatabase;
  let tollgate: TestWorker;
  let journal: Journal;

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateToLatest(database.db);
    tollgate = await startTestWorker({ db: database.db, taskQueue: `record-${Date.now()}` });
    journal = new Journal();
  });
  afterAll(async () => {
    await tollgate?.stop();
    await database?.drop();
    journal?.remove();
  });

  const save = (name: string, workflowId: string) => saveHistory(HISTORIES, name, workflowId);

  const awaitingApproval = (releaseId: string) =>
    eventually('approval', async () =>
      (await tollgate.releases.status(releaseId)).pendingApproval ? true : undefined,
    );

  it('a canary approved to Succeeded, with a pause promoted by hand', async () => {
    const spec = execSpec(journal, {
      service: 'replay-canary',
      environment: 'production',
      steps: [{ setWeight: 1 }, { pause: {} }, { setWeight: 10 }, { approval: { from: ['bob'] } }, { setWeight: 100 }],
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await eventually('pause', async () => ((await tollgate.releases.status(releaseId)).hold ? true : undefined));
    await tollgate.releases.approve(releaseId, { approver: bob }).catch(() => undefined); // refused: nothing awaits approval
    await tollgate.releases.promote(releaseId, { actor: bob });
    await awaitingApproval(releaseId);
    await tollgate.releases.approve(releaseId, { approver: alice }).catch(() => undefined); // refused: four-eyes
    await tollgate.releases.approve(releaseId, { approver: bob });
    await tollgate.releases.result(releaseId);
    await save('canary-succeeded', releaseId);
    await save('lane', laneIdFor('replay-canary', 'production'));
  });

  it('a canary rejected and rolled back', async () => {
    const spec = execSpec(journal, {
      service: 'replay-reject',
      steps: [{ setWeight: 5 }, { setWeight: 20 }, { approval: { from: ['bob'] } }],
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await awaitingApproval(releaseId);
    await tollgate.releases.reject(releaseId, { approver: bob, reason: 'errors up' });
    await tollgate.releases.result(releaseId);
    await save('canary-rejected', releaseId);
  });

  it('a failing step, a compensation retried, and an abort during a pause', async () => {
    const failing = execSpec(journal, {
      service: 'replay-failure',
      steps: [{ setWeight: 10 }, { setWeight: 50 }],
      setWeight: `[ "$TOLLGATE_WEIGHT" != 50 ] || exit 1; ${journal.append('setWeight $TOLLGATE_WEIGHT')}`,
    });
    const failed = await tollgate.releases.start(failing, alice);
    await tollgate.releases.result(failed.releaseId);
    await save('step-failed', failed.releaseId);

    const aborted = execSpec(journal, {
      service: 'replay-abort',
      steps: [{ setWeight: 10 }, { pause: { duration: '1h' } }],
    });
    const { releaseId } = await tollgate.releases.start(aborted, alice);
    await eventually('pause', async () =>
      (await tollgate.releases.status(releaseId)).step?.label === 'pause 1h' ? true : undefined,
    );
    await tollgate.releases.pause(releaseId, { actor: bob });
    await tollgate.releases.abort(releaseId, { actor: bob, reason: 'wrong build' });
    await tollgate.releases.result(releaseId);
    await save('aborted-in-pause', releaseId);
  });

  it('a schema release: expand, backfill, canary, contract approved', async () => {
    const users = await createTestDatabase('tollgate_replay_users');
    try {
      await users.db.raw(
        'CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email_address text NOT NULL)',
      );
      await users.db.raw(
        `INSERT INTO users (name, email_address) SELECT 'u' || n, 'u' || n || '@example.com' FROM generate_series(1, 5000) n`,
      );
      process.env.REPLAY_USERS_DATABASE_URL = users.url;
      const spec = execSpec(journal, {
        service: 'replay-schema',
        steps: [{ setWeight: 50 }, { setWeight: 100 }],
        database: {
          url: 'env:REPLAY_USERS_DATABASE_URL',
          migrations: path.join(__dirname, '..', '..', 'examples', 'schema-rename', 'migrations'),
          contractApproval: { from: ['bob'] },
        },
      });
      const { releaseId } = await tollgate.releases.start(spec, alice);
      await awaitingApproval(releaseId);
      await tollgate.releases.approve(releaseId, { approver: bob, comment: 'contract' });
      await tollgate.releases.result(releaseId);
      await save('schema-contracted', releaseId);
    } finally {
      await users.drop();
    }
  });

  it('a release held by a freeze, then let go', async () => {
    await tollgate.releases.freeze('replay-freeze', 'staging', {
      reason: 'incident',
      by: 'sre',
      at: new Date().toISOString(),
    });
    const spec = execSpec(journal, { service: 'replay-freeze', steps: [{ setWeight: 100 }] });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await eventually('hold', async () => ((await tollgate.releases.status(releaseId)).hold ? true : undefined));
    await tollgate.releases.unfreeze('replay-freeze', 'staging', 'sre', 'over');
    await tollgate.releases.result(releaseId);
    await save('held-by-freeze', releaseId);
    // The lane took the freeze and the unfreeze as updates.
    await save('lane-frozen-by-update', laneIdFor('replay-freeze', 'staging'));
  });
});
