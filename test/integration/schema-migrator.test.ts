import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { Client } from 'pg';
import { acquireAdvisoryLock } from '../../src/service-db/advisory-lock';
import { FolderMigrationSource, runMigration, type MigrationTarget } from '../../src/service-db/migrator';
import { openServiceDatabase } from '../../src/service-db/service-database';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { required } from '../../src/domain/required';

/**
 * The migrator on a real PostgreSQL: one file at a time through knex's own table, short lock
 * waits retried, CREATE INDEX CONCURRENTLY, and a migrator killed half-way.
 */
let database: TestDatabase;
let db: Knex;
let folder: string;
let target: MigrationTarget;
const RUNNER = path.join(__dirname, '..', 'support', 'migration-runner.ts');
const TSX = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');

beforeEach(async () => {
  database = await createTestDatabase('tollgate_migrator');
  await database.db.raw('CREATE TABLE users (id bigserial PRIMARY KEY, email_address text NOT NULL)');
  await database.db.raw(
    `INSERT INTO users (email_address) SELECT 'user' || n || '@example.com' FROM generate_series(1, 1000) n`,
  );
  db = openServiceDatabase(database.url, { lockTimeout: '200' });
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-migrator-'));
  target = { url: database.url, directory: folder, tableName: 'knex_migrations' };
});

afterEach(async () => {
  await db.destroy();
  await database.drop();
  fs.rmSync(folder, { recursive: true, force: true });
});

function writeMigration(name: string, body: string): void {
  fs.writeFileSync(path.join(folder, name), body);
}

const addColumn = `exports.phase = 'expand';
exports.up = (knex) => knex.schema.alterTable('users', (t) => t.text('primary_email'));
exports.down = (knex) => knex.schema.alterTable('users', (t) => t.dropColumn('primary_email'));
`;

async function applied(): Promise<string[]> {
  return (await database.db('knex_migrations').orderBy('id').pluck('name')) as string[];
}

it('applies one file at a time through knex migration table, and never twice', async () => {
  writeMigration('001_add_primary_email.js', addColumn);
  writeMigration('002_later.js', `exports.phase = 'contract';\nexports.up = (knex) => knex.raw('SELECT 1');\n`);

  expect(await runMigration(db, target, '001_add_primary_email.js', 'up', { retryForMs: 5000 })).toBe('applied');
  expect(await runMigration(db, target, '001_add_primary_email.js', 'up', { retryForMs: 5000 })).toBe(
    'already applied',
  );
  // Only the file asked for: the later one is still pending.
  expect(await applied()).toEqual(['001_add_primary_email.js']);
  expect(await runMigration(db, target, '001_add_primary_email.js', 'down', { retryForMs: 5000 })).toBe('reverted');
  expect(await runMigration(db, target, '001_add_primary_email.js', 'down', { retryForMs: 5000 })).toBe('not applied');
  expect(await applied()).toEqual([]);
});

it('gives up a lock it cannot get within lock_timeout, retries, and applies once the table is free: the application never waits long', async () => {
  writeMigration('001_add_primary_email.js', addColumn);
  const longReader = new Client({ connectionString: database.url });
  longReader.on('error', () => undefined); // the test ends its own connection
  await longReader.connect();
  await longReader.query('BEGIN');
  await longReader.query('SELECT count(*) FROM users');

  const waits: string[] = [];
  const migrating = runMigration(db, target, '001_add_primary_email.js', 'up', {
    retryForMs: 600_000, // the test decides when the table frees up
    onWait: (message) => waits.push(message),
  });
  // While the migration keeps trying, the application's queries get through. Without lock_timeout
  // the ALTER would queue behind the reader and every INSERT behind the ALTER, until the reader
  // commits: these INSERTs could not finish while the reader's transaction is open.
  await eventually('the migration to find the table busy', () =>
    waits.some((message) => /table busy/.test(message)) ? true : undefined,
  );
  const app = new Client({ connectionString: database.url });
  app.on('error', () => undefined); // the test ends its own connection
  await app.connect();
  for (let insert = 0; insert < 20; insert++)
    await app.query(`INSERT INTO users (email_address) VALUES ('during@example.com')`);
  const { rows } = await app.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM users WHERE email_address = 'during@example.com'`,
  );
  expect(rows[0]?.n).toBe(20);
  expect(await applied()).toEqual([]); // the reader still holds the table: the migration is still waiting
  await longReader.query('COMMIT');
  expect(await migrating).toBe('applied');
  await Promise.all([longReader.end(), app.end()]);
  expect(await applied()).toEqual(['001_add_primary_email.js']);
});

it('runs CREATE INDEX CONCURRENTLY in a migration outside a transaction', async () => {
  writeMigration(
    '001_index_email.js',
    `exports.phase = 'expand';
exports.config = { transaction: false };
exports.up = (knex) => knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email_address)');
exports.down = (knex) => knex.raw('DROP INDEX CONCURRENTLY IF EXISTS users_email_idx');
`,
  );
  expect(await runMigration(db, target, '001_index_email.js', 'up', { retryForMs: 5000 })).toBe('applied');
  const { rows } = await database.db.raw(
    `SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_idx'::regclass`,
  );
  expect(rows).toEqual([{ indisvalid: true }]);
});

it('a migrator killed half-way leaves knex lock row locked; the next one frees it and finishes, without waiting for the dead statement', async () => {
  // A non-transactional migration: knex commits its lock row first, so a kill leaves it locked.
  // It sleeps while the marker file exists, so the first run can be killed mid-way.
  const marker = path.join(folder, 'sleep-first');
  fs.writeFileSync(marker, '');
  writeMigration(
    '001_slow.js',
    `exports.phase = 'expand';
exports.config = { transaction: false };
exports.up = async (knex) => {
  if (require('node:fs').existsSync(${JSON.stringify(marker)})) await knex.raw('SELECT pg_sleep(60)');
  await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email_address)');
};
`,
  );
  const child = spawn(TSX, [RUNNER, database.url, folder, '001_slow.js'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for (let tries = 0; ; tries++) {
    const { rows } = await database.db.raw(
      `SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'`,
    );
    if (rows.length > 0) break;
    if (tries > 300) throw new Error('the migration never started');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect((await database.db('knex_migrations_lock').first()).is_locked).toBe(1);
  process.kill(-required(child.pid, 'migrator pid'), 'SIGKILL');
  await exited;
  // knex on its own would now refuse: "Migration table is already locked".
  await expect(db.migrate.up({ migrationSource: new FolderMigrationSource(folder) })).rejects.toThrow(/already locked/);

  fs.rmSync(marker);
  const waits: string[] = [];
  expect(
    await runMigration(db, target, '001_slow.js', 'up', {
      retryForMs: 10_000,
      onWait: (message) => waits.push(message),
    }),
  ).toBe('applied');
  expect(waits.join('\n')).toMatch(/left locked by a migration that died/);
  expect((await database.db('knex_migrations_lock').first()).is_locked).toBe(0);
  // PostgreSQL notices the dead client within seconds and ends its statement rather than sleeping on.
  const sleeping = async () =>
    (
      await database.db.raw(
        `SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'`,
      )
    ).rows.length;
  for (let tries = 0; tries < 50 && (await sleeping()) > 0; tries++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await sleeping()).toBe(0);
});

it('serialises migrators with an advisory lock that dies with its session', async () => {
  writeMigration('001_add_primary_email.js', addColumn);
  const other = await acquireAdvisoryLock(database.url, 'tollgate-migrations:knex_migrations', { waitMs: 1000 });
  await expect(runMigration(db, target, '001_add_primary_email.js', 'up', { retryForMs: 1500 })).rejects.toThrow(
    /another migration holds the lock/,
  );
  await other.release();
  expect(await runMigration(db, target, '001_add_primary_email.js', 'up', { retryForMs: 1500 })).toBe('applied');
});
