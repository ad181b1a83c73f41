import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import { startEmbeddedPostgres, type LocalPostgres } from '../src/devstack/postgres';
import type { BackfillDeclaration } from '../src/domain/schema-change';
import { readBackfillProgress, runBackfillChunk } from '../src/schema/backfill';
import { openServiceDatabase } from '../src/schema/service-database';

/**
 * `npm run bench:backfill`: the users.email_address → primary_email backfill on a real PostgreSQL
 * (DATABASE_URL's server, or an embedded one), with and without an application inserting as fast
 * as it can, and a run stopped half-way and resumed from its checkpoint. Prints rows per second,
 * the application's inserts meanwhile, and what a resume costs.
 */
const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const INSERTERS = 4;

const BACKFILL: BackfillDeclaration = { table: 'users', key: 'id', set: { primary_email: 'email_address' }, batchSize: BATCH, pause: '0ms' };

async function main(): Promise<void> {
  let embedded: LocalPostgres | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-pg-')) });
    serverUrl = embedded.url;
  }
  const rows: string[][] = [];
  try {
    rows.push(await scenario(serverUrl, 'no load', async (db) => ({ inserts: 0, stop: async () => 0, db })));
    rows.push(await scenario(serverUrl, `${INSERTERS} connections inserting`, async (db, url) => startInserters(url, db)));
    rows.push(await resumeScenario(serverUrl));
  } finally {
    await embedded?.stop();
  }
  console.log(`\nbackfill of ${ROWS} rows, batches of ${BATCH}, keyset on users.id\n`);
  const header = ['scenario', 'seconds', 'rows/s', 'rows rewritten', 'app inserts meanwhile', 'exact'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

interface Load {
  stop(): Promise<number>;
}

async function scenario(serverUrl: string, name: string, withLoad: (db: Knex, url: string) => Promise<Load>): Promise<string[]> {
  const { url, db, drop } = await seededDatabase(serverUrl);
  try {
    const load = await withLoad(db, url);
    const started = Date.now();
    const progress = await runBackfillChunk(db, { releaseId: 'bench', migration: 'add_primary_email', backfill: BACKFILL, chunkMs: 3_600_000 });
    const seconds = (Date.now() - started) / 1000;
    const inserts = await load.stop();
    return [name, seconds.toFixed(2), Math.round(progress.rowsScanned / seconds).toString(), String(progress.rowsUpdated), String(inserts), String(await exact(db))];
  } finally {
    await drop();
  }
}

/** Stopped after a third of the rows (as a crash would stop it), then resumed: what does it cost? */
async function resumeScenario(serverUrl: string): Promise<string[]> {
  const { db, drop } = await seededDatabase(serverUrl);
  try {
    const started = Date.now();
    let stopped = false;
    await runBackfillChunk(db, {
      releaseId: 'bench',
      migration: 'add_primary_email',
      backfill: BACKFILL,
      chunkMs: 3_600_000,
      onBatch: (progress) => (stopped ||= progress.rowsScanned >= ROWS / 3),
      shouldStop: () => stopped,
    });
    const atStop = (await readBackfillProgress(db, 'bench', 'add_primary_email'))!;
    const resumedAt = Date.now();
    let firstBatchMs = 0;
    const progress = await runBackfillChunk(db, {
      releaseId: 'bench',
      migration: 'add_primary_email',
      backfill: BACKFILL,
      chunkMs: 3_600_000,
      resuming: true,
      onBatch: () => (firstBatchMs ||= Date.now() - resumedAt),
    });
    const seconds = (Date.now() - started) / 1000;
    console.error(
      `  resume: stopped at key ${atStop.lastKey} (${atStop.rowsScanned} rows done); resumed there, first batch ${firstBatchMs} ms after the restart; ` +
        `rows scanned in all ${progress.rowsScanned} of ${progress.rowsTotal} (a cursor kept in memory would have scanned ${progress.rowsTotal + atStop.rowsScanned})`,
    );
    return ['stopped at 1/3, resumed', seconds.toFixed(2), Math.round(progress.rowsScanned / seconds).toString(), String(progress.rowsUpdated), '0', String(await exact(db))];
  } finally {
    await drop();
  }
}

async function seededDatabase(serverUrl: string): Promise<{ url: string; db: Knex; drop(): Promise<void> }> {
  const name = `tollgate_bench_${Date.now()}`;
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw('CREATE DATABASE ??', [name]);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = openServiceDatabase(url.toString(), { lockTimeout: '2000' });
  await db.raw('CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email_address text NOT NULL, primary_email text)');
  await db.raw(`INSERT INTO users (name, email_address) SELECT 'user ' || n, 'user' || n || '@example.com' FROM generate_series(1, ?) n`, [ROWS]);
  // The expand's sync trigger: rows the application writes from now on carry both columns.
  await db.raw(`CREATE FUNCTION sync_email() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.primary_email := NEW.email_address; RETURN NEW; END $$`);
  await db.raw('CREATE TRIGGER sync_email BEFORE INSERT OR UPDATE OF email_address ON users FOR EACH ROW EXECUTE FUNCTION sync_email()');
  await db.raw('VACUUM ANALYZE users');
  return {
    url: url.toString(),
    db,
    drop: async () => {
      await db.destroy();
      await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
      await admin.destroy();
    },
  };
}

async function startInserters(url: string, _db: Knex): Promise<Load> {
  const app = knex({ client: 'pg', connection: url, pool: { min: 0, max: INSERTERS } });
  let running = true;
  let inserts = 0;
  const loops = Array.from({ length: INSERTERS }, async () => {
    while (running) {
      await app.raw(`INSERT INTO users (name, email_address) VALUES ('load', 'load-' || random() || '@example.com')`);
      inserts++;
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await app.destroy();
      return inserts;
    },
  };
}

async function exact(db: Knex): Promise<boolean> {
  const { rows } = await db.raw<{ rows: { wrong: string }[] }>('SELECT count(*) AS wrong FROM users WHERE primary_email IS DISTINCT FROM email_address');
  return rows[0].wrong === '0';
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
