import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrateToLatest } from '../../src/audit/database';
import type { ReleaseStatus } from '../../src/domain/release';
import type { Actor, ReleaseSpec } from '../../src/domain/spec';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ReleaseClient } from '../../src/client/release-client';
import { execSpec, Journal, type ExecSpecOptions } from '../support/exec-spec';
import { UsersApp } from '../support/users-app';
import { startTestWorker, type TestWorker } from '../support/worker';
import { eventually } from '../support/eventually';
import { startWorkerProcess } from '../support/worker-process';
import { required } from '../../src/domain/required';

/**
 * The classic rename, users.email_address → users.primary_email, as releases on a real Temporal
 * server and a real PostgreSQL, with an application writing through both versions all along.
 * The migrations are the ones in examples/schema-rename.
 */
const EXAMPLE_MIGRATIONS = path.join(__dirname, '..', '..', 'examples', 'schema-rename', 'migrations');
const EXPAND = '20261101000000_add_primary_email.js';
const CONTRACT = '20261101000100_drop_email_address.js';
const URL_VARIABLE = 'SCHEMA_TEST_USERS_DATABASE_URL';

const alice: Actor = { id: 'alice', via: 'cli' };
const bob: Actor = { id: 'bob', via: 'slack' };

let tollgateDb: TestDatabase;
let tollgate: TestWorker;
let journal: Journal;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  tollgateDb = await createTestDatabase();
  await migrateToLatest(tollgateDb.db);
  tollgate = await startTestWorker({ db: tollgateDb.db, taskQueue: `schema-${Date.now()}` });
  journal = new Journal();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

afterAll(async () => {
  await tollgate?.stop();
  await tollgateDb?.drop();
  journal?.remove();
});

/** A users database at version 1, with `rows` users and the application's old version writing. */
async function usersDatabase(rows: number): Promise<{ database: TestDatabase; app: UsersApp }> {
  const database = await createTestDatabase('tollgate_users');
  const app = new UsersApp(database.url);
  await app.seed(rows);
  cleanups.push(
    () => database.drop(),
    () => app.close(),
  );
  process.env[URL_VARIABLE] = database.url;
  return { database, app };
}

/** A migrations folder with the example's files, optionally edited. */
function migrationsFolder(files: string[], edit: (name: string, text: string) => string = (_, text) => text): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-migrations-'));
  for (const name of files)
    fs.writeFileSync(path.join(dir, name), edit(name, fs.readFileSync(path.join(EXAMPLE_MIGRATIONS, name), 'utf8')));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function renameSpec(
  service: string,
  migrations: string,
  options: { steps?: ExecSpecOptions['steps']; onRollback?: 'keep' | 'revert'; heartbeatTimeout?: string } = {},
): ReleaseSpec {
  return execSpec(journal, {
    service,
    steps: options.steps ?? [{ setWeight: 50 }, { setWeight: 100 }],
    database: {
      url: `env:${URL_VARIABLE}`,
      migrations,
      lockTimeout: '300ms',
      onRollback: options.onRollback ?? 'keep',
      contractApproval: { from: ['bob'] },
    },
    execution: { heartbeatTimeout: options.heartbeatTimeout ?? '5s' },
  });
}

async function columnsOf(database: TestDatabase, table: string): Promise<string[]> {
  const rows = await database
    .db('information_schema.columns')
    .where({ table_name: table })
    .orderBy('ordinal_position')
    .pluck('column_name');
  return rows as string[];
}

async function appliedMigrations(database: TestDatabase): Promise<string[]> {
  if (!(await database.db.schema.hasTable('knex_migrations'))) return [];
  return (await database.db('knex_migrations').orderBy('id').pluck('name')) as string[];
}

async function waitForStage(
  releaseId: string,
  done: (status: ReleaseStatus) => boolean,
  what: string,
): Promise<ReleaseStatus> {
  return eventually(
    what,
    async () => {
      const status = await tollgate.releases.status(releaseId);
      return done(status) ? status : undefined;
    },
    120_000,
  );
}

it('renames users.email_address to primary_email in one release while both versions of the application write, losing nothing', async () => {
  const { database, app } = await usersDatabase(20_000);
  app.start('old');
  const { releaseId } = await tollgate.releases.start(
    renameSpec('schema-rename', migrationsFolder([EXPAND, CONTRACT])),
    alice,
  );

  // The new version starts once the schema is expanded and backfilled, as Tollgate deploys it.
  await waitForStage(
    releaseId,
    (status) => ['Deploying', 'Shifting', 'Baking', 'AwaitingContract'].includes(status.stage),
    'the new version deployed',
  );
  app.start('new');
  const awaiting = await waitForStage(
    releaseId,
    (status) => status.stage === 'AwaitingContract',
    'the contract awaiting approval',
  );
  expect(awaiting.weight).toBe(100);
  expect(awaiting.backfills?.[0]).toMatchObject({ migration: EXPAND, table: 'users', done: true });
  expect(awaiting.migrations).toEqual([
    { name: EXPAND, phase: 'expand', state: 'applied' },
    { name: CONTRACT, phase: 'contract', state: 'pending' },
  ]);
  expect(await columnsOf(database, 'users')).toEqual(['id', 'name', 'email_address', 'primary_email']);

  // The old version is retired: nothing reads email_address any more.
  await app.stop('old');
  // A long transaction reading users makes the contract's DROP COLUMN wait: the release waits
  // (lock_timeout, then retries), the application does not.
  const reader = new Client({ connectionString: database.url });
  // PostgreSQL may end this session when the test is done with it; that is no error of the test's.
  reader.on('error', () => undefined);
  await reader.connect();
  cleanups.push(() => reader.end());
  await reader.query('BEGIN');
  await reader.query('SELECT count(*) FROM users');

  await tollgate.releases.approve(releaseId, { approver: bob, comment: 'contract it' });
  const contracting = await waitForStage(releaseId, (status) => status.stage === 'Contracting', 'the contract running');
  expect(contracting.contractedAt).toBeDefined();
  await expect(tollgate.releases.rollback(releaseId, { actor: alice, reason: 'changed my mind' })).rejects.toThrow(
    /rollback refused: schema contracted at .*; .*fix forward/,
  );
  const writesWhileBlocked = app.writes.new;
  // The application keeps writing while the contract waits for the reader's lock.
  await eventually('the application writing while the contract waits', async () =>
    app.writes.new > writesWhileBlocked + 10 ? true : undefined,
  );
  expect((await tollgate.releases.status(releaseId)).stage).toBe('Contracting');
  await reader.query('COMMIT');

  const result = await tollgate.releases.result(releaseId);
  await app.stop('new');
  expect(result.outcome).toBe('Succeeded');
  expect(await columnsOf(database, 'users')).toEqual(['id', 'name', 'primary_email']);
  expect(await appliedMigrations(database)).toEqual([EXPAND, CONTRACT]);

  expect(app.errors).toEqual([]);
  expect(app.writes.old).toBeGreaterThan(100);
  expect(app.writes.new).toBeGreaterThan(100);
  const comparison = await app.compare();
  expect(comparison.mismatches).toEqual([]);
  expect(comparison.rows).toBe(comparison.expectedRows);
  expect(comparison.checksum).toBe(comparison.expectedChecksum);
});

it('a worker killed with SIGKILL during the backfill: the release resumes from the checkpoint and the result is exact', async () => {
  const { database, app } = await usersDatabase(40_000);
  app.start('old');
  // Small, paced batches so the kill lands in the middle of the backfill.
  const migrations = migrationsFolder([EXPAND], (_, text) =>
    text.replace('batchSize: 500,', "batchSize: 200, pause: '20ms',"),
  );
  const taskQueue = `schema-crash-${Date.now()}`;
  const doomed = await startWorkerProcess({
    taskQueue,
    databaseUrl: tollgateDb.url,
    env: { [URL_VARIABLE]: database.url },
  });
  cleanups.push(() => doomed.kill());
  const spec = renameSpec('schema-crash', migrations, { steps: [{ setWeight: 100 }], heartbeatTimeout: '3s' });
  const started = await new ReleaseClient(tollgate.client, taskQueue).start(spec, alice);

  const scannedAtKill = await eventually('the backfill half-way', async () => {
    if (!(await database.db.schema.hasTable('tollgate_backfill_checkpoints'))) return undefined;
    const row = await database.db('tollgate_backfill_checkpoints').where({ release_id: started.releaseId }).first();
    return row && Number(row.rows_scanned) >= 8000 ? Number(row.rows_scanned) : undefined;
  });
  await doomed.kill();
  const rescuer = await startTestWorker({ db: tollgateDb.db, taskQueue });
  cleanups.push(() => rescuer.stop());

  const result = await rescuer.releases.result(started.releaseId);
  await app.stop('old');
  expect(result.outcome).toBe('Succeeded');
  const status = await rescuer.releases.status(started.releaseId);
  const backfill = required(status.backfills, 'backfills')[0];
  expect(backfill.done).toBe(true);
  expect(backfill.resumes).toBeGreaterThanOrEqual(1);
  expect(scannedAtKill).toBeLessThan(backfill.rowsTotal);
  // Resumed from the checkpoint: every row of the range looked at once, not once more from the start.
  expect(backfill.rowsScanned).toBeGreaterThanOrEqual(backfill.rowsTotal);
  expect(backfill.rowsScanned).toBeLessThan(backfill.rowsTotal + 100);
  expect(status.events.map((event) => event.message).join('\n')).toMatch(/resumed \d+ time\(s\) from its checkpoint/);

  expect(app.errors).toEqual([]);
  const comparison = await app.compare();
  expect(comparison.mismatches).toEqual([]);
  expect(comparison.checksum).toBe(comparison.expectedChecksum);
});

describe('a release rolled back during the canary', () => {
  async function rollBackAtPause(service: string, onRollback: 'keep' | 'revert') {
    const { database, app } = await usersDatabase(2_000);
    app.start('old');
    const spec = renameSpec(service, migrationsFolder([EXPAND, CONTRACT]), {
      steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 100 }],
      onRollback,
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await waitForStage(
      releaseId,
      (status) => status.hold?.reason === 'paused until someone promotes',
      'the canary paused at 10%',
    );
    await tollgate.releases.rollback(releaseId, { actor: alice, reason: 'canary looks wrong' });
    const result = await tollgate.releases.result(releaseId);
    const status = await tollgate.releases.status(releaseId);
    // The old version keeps working through all of it.
    const writesAfter = app.writes.old;
    await eventually('the old version writing after the rollback', async () =>
      app.writes.old > writesAfter + 10 ? true : undefined,
    );
    await app.stop('old');
    expect(app.errors).toEqual([]);
    return { database, result, status };
  }

  it('keeps the expanded schema, and the old version works on it', async () => {
    const { database, result, status } = await rollBackAtPause('schema-keep', 'keep');
    expect(result.outcome).toBe('RolledBack');
    expect(await columnsOf(database, 'users')).toEqual(['id', 'name', 'email_address', 'primary_email']);
    expect(await appliedMigrations(database)).toEqual([EXPAND]);
    expect(status.migrations).toEqual([
      { name: EXPAND, phase: 'expand', state: 'kept' },
      { name: CONTRACT, phase: 'contract', state: 'pending' },
    ]);
  });

  it('with onRollback: revert, leaves the schema as it was', async () => {
    const { database, result, status } = await rollBackAtPause('schema-revert', 'revert');
    expect(result.outcome).toBe('RolledBack');
    expect(await columnsOf(database, 'users')).toEqual(['id', 'name', 'email_address']);
    expect(await appliedMigrations(database)).toEqual([]);
    const triggers = await database
      .db('information_schema.triggers')
      .where({ event_object_table: 'users' })
      .pluck('trigger_name');
    expect(triggers).toEqual([]);
    expect(status.migrations?.[0]).toEqual({ name: EXPAND, phase: 'expand', state: 'reverted' });
  });
});

it('refuses to start a release whose migration would lock a busy table, naming the file, the statement and the fix', async () => {
  const { database } = await usersDatabase(100);
  const migrations = migrationsFolder([EXPAND]);
  fs.writeFileSync(
    path.join(migrations, '20261101000050_index_email.js'),
    `exports.phase = 'expand';\nexports.up = (knex) => knex.schema.alterTable('users', (t) => t.index(['email_address']));\nexports.down = (knex) => knex.schema.alterTable('users', (t) => t.dropIndex(['email_address']));\n`,
  );
  const { releaseId } = await tollgate.releases.start(renameSpec('schema-unsafe', migrations), alice);
  const result = await tollgate.releases.result(releaseId);
  expect(result.outcome).toBe('Failed');
  expect(result.reason).toMatch(/safety check refused 1 statement/);
  expect(result.reason).toMatch(/20261101000050_index_email\.js: `create index .*CONCURRENTLY/is);
  // Nothing was applied, not even the safe migration before it.
  expect(await appliedMigrations(database)).toEqual([]);
  expect(await columnsOf(database, 'users')).toEqual(['id', 'name', 'email_address']);
});
