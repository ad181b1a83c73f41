import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Knex } from 'knex';
import type { BackfillDeclaration, BackfillProgress } from '../../src/domain/migration-plan';
import { readBackfillProgress, resetBackfill, runBackfillChunk } from '../../src/service-db/backfill';
import { openServiceDatabase } from '../../src/service-db/service-database';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { required } from '../../src/domain/required';
import { eventually } from '../support/eventually';

/** The keyset backfill on a real PostgreSQL, without Temporal: exactness, restraint, pace and resume. */
let database: TestDatabase;
let db: Knex;

beforeEach(async () => {
  database = await createTestDatabase('tollgate_backfill');
  db = openServiceDatabase(database.url, { lockTimeout: '2000' });
});
afterEach(async () => {
  await db.destroy();
  await database.drop();
});

const TSX = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
const RUNNER = path.join(__dirname, '..', 'support', 'backfill-runner.ts');

const RENAME: BackfillDeclaration = {
  table: 'users',
  key: 'id',
  set: { primary_email: 'email_address' },
  batchSize: 100,
  // Fixed batches, so the tests can say where a batch ends; adaptation has its own tests.
  adaptBatchSize: false,
  pause: '0ms',
};

async function usersTable(rows: number): Promise<void> {
  await db.raw('CREATE TABLE users (id bigserial PRIMARY KEY, email_address text NOT NULL, primary_email text)');
  await db.raw(`INSERT INTO users (email_address) SELECT 'user' || n || '@example.com' FROM generate_series(1, ?) n`, [
    rows,
  ]);
}

/** The expand's sync trigger: rows the application writes from now on carry both columns. */
async function syncTrigger(): Promise<void> {
  await db.raw(
    `CREATE FUNCTION sync_email() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.primary_email := NEW.email_address; RETURN NEW; END $$`,
  );
  await db.raw(
    'CREATE TRIGGER sync_email BEFORE INSERT OR UPDATE OF email_address ON users FOR EACH ROW EXECUTE FUNCTION sync_email()',
  );
}

interface Checksum {
  rows: number;
  digest: string;
}

/** Row count and an md5 over `key:value` of every row, in key order. */
async function checksum(table: string, key: string, value: string): Promise<Checksum> {
  const { rows } = await db.raw<{ rows: Checksum[] }>(
    `SELECT count(*)::int AS rows, md5(string_agg(${key}::text || ':' || coalesce((${value})::text, '<null>'), ',' ORDER BY ${key})) AS digest FROM ${table}`,
  );
  return rows[0];
}

const usersAsExpected = () => checksum('users', 'id', 'email_address');
const usersAsFilled = () => checksum('users', 'id', 'primary_email');

async function xmins(where: string): Promise<{ id: string; xmin: string }[]> {
  return (await db.raw(`SELECT id, xmin::text FROM users WHERE ${where} ORDER BY id`)).rows;
}

function runToEnd(
  backfill: BackfillDeclaration,
  extra: Partial<Parameters<typeof runBackfillChunk>[1]> = {},
): Promise<BackfillProgress> {
  return runBackfillChunk(db, { releaseId: 'r1', migration: 'm1', backfill, chunkMs: 120_000, ...extra });
}

it('fills every row exactly on integer keys, and leaves alone the rows the application already wrote', async () => {
  await usersTable(1000);
  // The new version already wrote these: the backfill must not rewrite them.
  await db.raw('UPDATE users SET primary_email = email_address WHERE id % 10 = 0');
  const before = await xmins('id % 10 = 0');

  const progress = await runToEnd(RENAME);

  expect(progress).toMatchObject({
    done: true,
    rowsTotal: 1000,
    rowsScanned: 1000,
    rowsUpdated: 900,
    lastKey: '1000',
    upperKey: '1000',
    resumes: 0,
  });
  expect(await usersAsFilled()).toEqual(await usersAsExpected());
  expect(await xmins('id % 10 = 0')).toEqual(before);
  // Done is done: another call changes nothing.
  expect(await runToEnd(RENAME)).toMatchObject({ done: true, rowsUpdated: 900 });
});

it('pages on text keys, and takes a where clause with a jsonb ? operator as written', async () => {
  await db.raw('CREATE TABLE accounts (handle text PRIMARY KEY, profile jsonb NOT NULL, plan text)');
  // Keys of different lengths: text order is not numeric order ('h-10' < 'h-9').
  await db.raw(
    `INSERT INTO accounts SELECT 'h-' || n, CASE WHEN n % 2 = 0 THEN '{"plan":"pro"}' ELSE '{}' END::jsonb, NULL FROM generate_series(1, 500) n`,
  );
  const progress = await runToEnd({
    table: 'accounts',
    key: 'handle',
    set: { plan: "profile->>'plan'" },
    where: "profile ? 'plan' AND plan IS NULL",
    batchSize: 64,
    pause: '0ms',
  });
  expect(progress).toMatchObject({ done: true, rowsTotal: 500, rowsScanned: 500, rowsUpdated: 250, upperKey: 'h-99' });
  expect(await checksum('accounts', 'handle', 'plan')).toEqual(
    await checksum('accounts', 'handle', "profile->>'plan'"),
  );
});

it('pages on uuid keys of a schema-qualified table', async () => {
  await db.raw('CREATE SCHEMA billing');
  await db.raw(
    'CREATE TABLE billing.invoices (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), amount_cents integer NOT NULL, amount numeric(12, 2))',
  );
  await db.raw('INSERT INTO billing.invoices (amount_cents) SELECT n * 7 FROM generate_series(1, 2000) n');
  const progress = await runToEnd({
    table: 'billing.invoices',
    key: 'id',
    set: { amount: 'amount_cents / 100.0' },
    batchSize: 37,
    pause: '0ms',
  });
  expect(progress).toMatchObject({ done: true, rowsTotal: 2000, rowsScanned: 2000, rowsUpdated: 2000 });
  expect(await checksum('billing.invoices', 'id', 'amount')).toEqual(
    await checksum('billing.invoices', 'id', '(amount_cents / 100.0)::numeric(12, 2)'),
  );
});

it('finishes at once on an empty table', async () => {
  await usersTable(0);
  expect(await runToEnd(RENAME)).toMatchObject({ done: true, rowsTotal: 0, rowsScanned: 0 });
});

it('does not rewrite rows the application inserts or updates after the start', async () => {
  await usersTable(2000);
  await syncTrigger();
  let batches = 0;
  const first = await runToEnd(RENAME, { shouldStop: () => ++batches >= 2 });
  expect(first).toMatchObject({ done: false, lastKey: '200', upperKey: '2000' });

  // The new version at work: new rows, and old rows (ahead of the backfill) changed by users.
  await db.raw(`INSERT INTO users (email_address) SELECT 'late' || n || '@example.com' FROM generate_series(1, 100) n`);
  await db.raw(`UPDATE users SET email_address = 'changed' || id || '@example.com' WHERE id BETWEEN 1500 AND 1509`);
  const writtenByTheApp = await xmins('id > 2000 OR id BETWEEN 1500 AND 1509');
  expect(writtenByTheApp).toHaveLength(110);

  const progress = await runToEnd(RENAME);
  expect(progress).toMatchObject({ done: true, rowsScanned: 2000, rowsUpdated: 1990, lastKey: '2000' });
  expect(await xmins('id > 2000 OR id BETWEEN 1500 AND 1509')).toEqual(writtenByTheApp);
  expect(await usersAsFilled()).toEqual(await usersAsExpected());
});

it('finishes while the application inserts as fast as it can, and the result is exact, with batches adapting', async () => {
  await usersTable(20_000);
  await syncTrigger();
  // The first chunk (one batch: chunkMs 0) fixes the upper key; the application starts writing after
  // it, so every row it adds lies above that key and carries both columns through the trigger.
  const first = await runToEnd({ ...RENAME, batchSize: 500 }, { chunkMs: 0 });
  expect(first).toMatchObject({ done: false, upperKey: '20000' });
  let inserting = true;
  let inserted = 0;
  const inserters = Array.from({ length: 3 }, async () => {
    while (inserting) {
      await database.db.raw(`INSERT INTO users (email_address) VALUES ('new-' || random() || '@example.com')`);
      inserted++;
    }
  });
  await eventually('the application writing', () => (inserted >= 30 ? true : undefined)); // before the backfill goes on
  const progress = await runToEnd({ ...RENAME, batchSize: 500, adaptBatchSize: true, batchTime: '20ms' });
  inserting = false;
  await Promise.all(inserters);

  expect(progress).toMatchObject({
    done: true,
    rowsTotal: 20_000,
    rowsScanned: 20_000,
    rowsUpdated: 20_000,
    upperKey: '20000',
  });
  const filled = await usersAsFilled();
  expect(filled.rows).toBe(20_000 + inserted);
  expect(filled).toEqual(await usersAsExpected());
});

it('resumes after a SIGKILL exactly from the last committed batch', async () => {
  await usersTable(20_000);
  const backfill: BackfillDeclaration = { ...RENAME, pause: '20ms' };
  const child = spawn(TSX, [RUNNER, database.url, 'r1', 'm1', JSON.stringify(backfill)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let output = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Kill it once a few batches have committed, as a worker's machine dies: no chance to clean up.
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if ((output.match(/^batch /gm) ?? []).length >= 5) resolve();
    });
    child.on('exit', () => reject(new Error(`the runner ended before it was killed:\n${output}\n${stderr}`)));
  });
  process.kill(-required(child.pid, 'backfill runner pid'), 'SIGKILL');
  await exited;

  const atKill = required(await readBackfillProgress(db, 'r1', 'm1'), 'checkpoint at kill');
  expect(atKill.done).toBe(false);
  expect(atKill.rowsScanned).toBeGreaterThanOrEqual(500);
  expect(atKill.rowsScanned).toBeLessThan(20_000);
  // Batch and checkpoint committed together: done up to the checkpoint's key, untouched after it.
  const lastKey = Number(atKill.lastKey);
  const { rows } = await db.raw(
    `SELECT count(*) FILTER (WHERE id <= ? AND primary_email IS NULL)::int AS missed, count(*) FILTER (WHERE id > ? AND primary_email IS NOT NULL)::int AS ahead FROM users`,
    [lastKey, lastKey],
  );
  expect(rows[0]).toEqual({ missed: 0, ahead: 0 });

  // The activity's retry: its heartbeat details lag the checkpoint by a batch; the checkpoint wins.
  const staleHeartbeat: BackfillProgress = {
    ...atKill,
    lastKey: String(lastKey - 100),
    rowsScanned: atKill.rowsScanned - 100,
  };
  const scannedAfterEachBatch: number[] = [];
  const resumed = await runToEnd(
    { ...backfill, pause: '0ms' },
    { resumeFrom: staleHeartbeat, onBatch: (batch) => scannedAfterEachBatch.push(batch.rowsScanned) },
  );

  expect(scannedAfterEachBatch[0]).toBe(atKill.rowsScanned + 100);
  const scannedAfterResume = resumed.rowsScanned - atKill.rowsScanned;
  expect(scannedAfterResume).toBeLessThan(20_000);
  expect(resumed).toMatchObject({
    done: true,
    rowsTotal: 20_000,
    rowsScanned: 20_000,
    rowsUpdated: 20_000,
    resumes: 1,
  });
  expect(await usersAsFilled()).toEqual(await usersAsExpected());
});

it('counts a resume for a retry, not for the next chunk of a healthy run', async () => {
  await usersTable(3000);
  let batches = 0;
  const first = await runToEnd(RENAME, { shouldStop: () => ++batches >= 5 });
  expect(first).toMatchObject({ done: false, rowsScanned: 500, lastKey: '500', resumes: 0 });

  const second = await runToEnd(RENAME, { chunkMs: 0 });
  expect(second).toMatchObject({ done: false, rowsScanned: 600, lastKey: '600', resumes: 0 });

  const retried = await runToEnd(RENAME, { resumeFrom: second });
  expect(retried).toMatchObject({ done: true, rowsScanned: 3000, rowsUpdated: 3000, resumes: 1 });
  expect(await usersAsFilled()).toEqual(await usersAsExpected());
});

it('keeps under maxRowsPerSecond', async () => {
  await usersTable(2000);
  const started = Date.now();
  const progress = await runToEnd({ ...RENAME, maxRowsPerSecond: 1000 });
  // 2,000 rows at 1,000 a second: about 1.9 s (the last batch needs no rest after it).
  expect(Date.now() - started).toBeGreaterThan(1500);
  expect(progress.ratePerSecond).toBeLessThan(1300);
});

it('keeps its checkpoint row for the next worker, and forgets it on reset', async () => {
  await usersTable(1000);
  await runToEnd(RENAME);

  const anotherWorker = openServiceDatabase(database.url, { lockTimeout: '2000' });
  try {
    expect(await readBackfillProgress(anotherWorker, 'r1', 'm1')).toMatchObject({
      done: true,
      rowsTotal: 1000,
      rowsScanned: 1000,
      rowsUpdated: 1000,
      lastKey: '1000',
    });
    const row = await anotherWorker('tollgate_backfill_checkpoints')
      .where({ release_id: 'r1', migration: 'm1' })
      .first();
    expect(row).toMatchObject({
      table_name: 'users',
      last_key: '1000',
      upper_key: '1000',
      resumes: 0,
      running_since: null,
    });
    expect(row.finished_at).toBeInstanceOf(Date);

    await resetBackfill(anotherWorker, 'r1', 'm1');
    expect(await readBackfillProgress(anotherWorker, 'r1', 'm1')).toBeUndefined();
  } finally {
    await anotherWorker.destroy();
  }
  // Started over: every row looked at again, none rewritten (they are right already).
  expect(await runToEnd(RENAME)).toMatchObject({ done: true, rowsScanned: 1000, rowsUpdated: 0, resumes: 0 });
  // Nothing to forget is no error.
  await resetBackfill(db, 'r1', 'no-such-migration');
});

it('starts the next chunk at the batch size the last one adapted to, not at the declared size again', async () => {
  await usersTable(50_000);
  // A target no batch here comes near, however busy the machine: each batch grows by the most allowed.
  const adapting = { ...RENAME, batchSize: 100, adaptBatchSize: true, batchTime: '10m' };
  const sizes: number[] = [];
  let scanned = 0;
  const onBatch = (batch: BackfillProgress) => {
    sizes.push(batch.rowsScanned - scanned);
    scanned = batch.rowsScanned;
  };
  await runToEnd(adapting, { onBatch, shouldStop: () => sizes.length >= 4 });
  expect(sizes).toEqual([100, 400, 1600, 6400]);

  await runToEnd(adapting, { onBatch, chunkMs: 0 });
  expect(sizes[4]).toBe(6400);
});
