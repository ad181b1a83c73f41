import type { Knex } from 'knex';
import type { BackfillDeclaration } from '../../src/domain/schema-change';
import { readBackfillProgress, resetBackfill, runBackfillChunk } from '../../src/schema/backfill';
import { openServiceDatabase } from '../../src/schema/service-database';
import { createTestDatabase, type TestDatabase } from '../support/database';

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

const RENAME: BackfillDeclaration = { table: 'users', key: 'id', set: { primary_email: 'email_address' }, batchSize: 100, pause: '0ms' };

async function usersTable(rows: number): Promise<void> {
  await db.raw('CREATE TABLE users (id bigserial PRIMARY KEY, email_address text NOT NULL, primary_email text)');
  await db.raw(`INSERT INTO users (email_address) SELECT 'user' || n || '@example.com' FROM generate_series(1, ?) n`, [rows]);
}

async function wrongRows(): Promise<number> {
  const { rows } = await db.raw('SELECT count(*)::int AS wrong FROM users WHERE primary_email IS DISTINCT FROM email_address');
  return rows[0].wrong;
}

it('fills every row, and leaves alone the rows the application already wrote', async () => {
  await usersTable(1000);
  // The new version already wrote these: the backfill must not rewrite them.
  await db.raw('UPDATE users SET primary_email = email_address WHERE id % 10 = 0');
  const before = await db.raw(`SELECT id, xmin::text FROM users WHERE id % 10 = 0 ORDER BY id`);

  const progress = await runBackfillChunk(db, { releaseId: 'r1', migration: 'm1', backfill: RENAME, chunkMs: 60_000 });

  expect(progress).toMatchObject({ done: true, rowsTotal: 1000, rowsScanned: 1000, rowsUpdated: 900, lastKey: '1000', upperKey: '1000', resumes: 0 });
  expect(await wrongRows()).toBe(0);
  const after = await db.raw(`SELECT id, xmin::text FROM users WHERE id % 10 = 0 ORDER BY id`);
  expect(after.rows).toEqual(before.rows);
  // Done is done: another call changes nothing.
  expect(await runBackfillChunk(db, { releaseId: 'r1', migration: 'm1', backfill: RENAME, chunkMs: 60_000 })).toMatchObject({ done: true, rowsUpdated: 900 });
});

it('pages on text keys, and takes a where clause with a jsonb ? operator as written', async () => {
  await db.raw('CREATE TABLE accounts (handle text PRIMARY KEY, profile jsonb NOT NULL, plan text)');
  await db.raw(`INSERT INTO accounts SELECT 'h-' || md5(n::text), CASE WHEN n % 2 = 0 THEN '{"plan":"pro"}' ELSE '{}' END::jsonb, NULL FROM generate_series(1, 500) n`);
  const progress = await runBackfillChunk(db, {
    releaseId: 'r1',
    migration: 'm-accounts',
    backfill: { table: 'accounts', key: 'handle', set: { plan: "profile->>'plan'" }, where: "profile ? 'plan' AND plan IS NULL", batchSize: 64, pause: '0ms' },
    chunkMs: 60_000,
  });
  expect(progress).toMatchObject({ done: true, rowsScanned: 500, rowsUpdated: 250 });
  const { rows } = await db.raw(`SELECT count(*)::int AS n FROM accounts WHERE plan = 'pro'`);
  expect(rows[0].n).toBe(250);
});

it('stops after a chunk and resumes from its checkpoint, not from the start', async () => {
  await usersTable(3000);
  let batches = 0;
  const first = await runBackfillChunk(db, { releaseId: 'r1', migration: 'm1', backfill: RENAME, chunkMs: 60_000, shouldStop: () => ++batches >= 5 });
  expect(first).toMatchObject({ done: false, rowsScanned: 500, lastKey: '500' });
  expect(await readBackfillProgress(db, 'r1', 'm1')).toMatchObject({ rowsScanned: 500, lastKey: '500' });

  const scannedByResume: number[] = [];
  const resumed = await runBackfillChunk(db, {
    releaseId: 'r1',
    migration: 'm1',
    backfill: RENAME,
    chunkMs: 60_000,
    resuming: true,
    onBatch: (progress) => scannedByResume.push(progress.rowsScanned),
  });
  expect(scannedByResume[0]).toBe(600); // the first batch after the resume starts right after key 500
  expect(resumed).toMatchObject({ done: true, rowsScanned: 3000, rowsUpdated: 3000, resumes: 1 });
  expect(await wrongRows()).toBe(0);

  await resetBackfill(db, 'r1', 'm1');
  expect(await readBackfillProgress(db, 'r1', 'm1')).toBeUndefined();
});

it('keeps under maxRowsPerSecond', async () => {
  await usersTable(1500);
  const started = Date.now();
  await runBackfillChunk(db, { releaseId: 'r1', migration: 'm1', backfill: { ...RENAME, maxRowsPerSecond: 1000 }, chunkMs: 60_000 });
  // 1,500 rows at 1,000 a second: at least 1.4 s (the last batch needs no rest after it).
  expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
});

it('finishes while the application inserts as fast as it can, and the result is exact', async () => {
  await usersTable(20_000);
  // The expand's sync trigger: rows written from now on carry both columns.
  await db.raw(`CREATE FUNCTION sync_email() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.primary_email := NEW.email_address; RETURN NEW; END $$`);
  await db.raw('CREATE TRIGGER sync_email BEFORE INSERT OR UPDATE OF email_address ON users FOR EACH ROW EXECUTE FUNCTION sync_email()');
  let inserting = true;
  let inserted = 0;
  const inserters = Array.from({ length: 3 }, async () => {
    while (inserting) {
      await database.db.raw(`INSERT INTO users (email_address) VALUES ('new-' || random() || '@example.com')`);
      inserted++;
    }
  });
  const progress = await runBackfillChunk(db, { releaseId: 'r1', migration: 'm1', backfill: { ...RENAME, batchSize: 500 }, chunkMs: 120_000 });
  inserting = false;
  await Promise.all(inserters);

  expect(progress.done).toBe(true);
  expect(progress.rowsUpdated).toBe(20_000);
  expect(inserted).toBeGreaterThan(0);
  expect(await wrongRows()).toBe(0);
});
