import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import { startEmbeddedPostgres, type LocalPostgres } from '../src/devstack/postgres';
import type { BackfillDeclaration, BackfillProgress } from '../src/domain/migration-plan';
import { readBackfillProgress, runBackfillChunk } from '../src/service-db/backfill';
import { openServiceDatabase } from '../src/service-db/service-database';
import { required } from '../src/domain/required';

/**
 * `npm run bench:backfill`: the users.email_address → primary_email backfill on a real PostgreSQL
 * (DATABASE_URL's server, or an embedded one with fsync on, so each batch's commit costs what it
 * would in production), with and without an application inserting as fast as it can, and a run
 * stopped a third of the way and resumed from its checkpoint by a fresh connection pool (a new
 * worker). Prints rows per second, the application's inserts meanwhile, and what a resume costs.
 */
const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const INSERTERS = 4;
/** How long the inserters run alone first, to know their rate without a backfill beside them. */
const LOAD_BASELINE_MS = 3000;
const RELEASE = 'bench';
const MIGRATION = 'add_primary_email';

const BACKFILL: BackfillDeclaration = {
  table: 'users',
  key: 'id',
  set: { primary_email: 'email_address' },
  batchSize: BATCH,
  pause: '0ms',
};

interface Figures {
  scenario: string;
  seconds: number;
  progress: BackfillProgress;
  appInserts?: { alone: number; during: number; perSecondAlone: number; perSecondDuring: number };
  exact: boolean;
}

async function main(): Promise<void> {
  let embedded: LocalPostgres | undefined;
  let dataDir: string | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-pg-'));
    embedded = await startEmbeddedPostgres({ dataDir });
    serverUrl = embedded.url;
  }
  try {
    // Unreported: the first backfill on a fresh server pays for cold caches and warms up the pool.
    await noLoadScenario(serverUrl);
    const quiet = await noLoadScenario(serverUrl);
    const loaded = await insertLoadScenario(serverUrl);
    const resume = await resumeScenario(serverUrl);
    printReport(quiet, loaded, resume);
  } finally {
    await embedded?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function noLoadScenario(serverUrl: string): Promise<Figures> {
  return withSeededDatabase(serverUrl, async ({ db }) => {
    const started = Date.now();
    const progress = await backfillToEnd(db);
    return { scenario: 'no load', seconds: secondsSince(started), progress, exact: await exact(db) };
  });
}

async function insertLoadScenario(serverUrl: string): Promise<Figures> {
  return withSeededDatabase(serverUrl, async ({ db, url }) => {
    const load = startInserters(url);
    await sleep(LOAD_BASELINE_MS);
    const alone = load.inserts();
    const started = Date.now();
    const progress = await backfillToEnd(db);
    const seconds = secondsSince(started);
    const during = (await load.stop()) - alone;
    return {
      scenario: `${INSERTERS} connections inserting`,
      seconds,
      progress,
      appInserts: {
        alone,
        during,
        perSecondAlone: alone / (LOAD_BASELINE_MS / 1000),
        perSecondDuring: during / seconds,
      },
      exact: await exact(db),
    };
  });
}

interface ResumeFigures extends Figures {
  stoppedAt: BackfillProgress;
  /** From the new pool's first call to its first committed batch. */
  restartToFirstBatchMs: number;
}

/** Stopped after a third of the rows (as a crash would stop it), then resumed by a new pool. */
async function resumeScenario(serverUrl: string): Promise<ResumeFigures> {
  return withSeededDatabase(serverUrl, async ({ db, url }) => {
    const started = Date.now();
    let stopping = false;
    await runBackfillChunk(db, {
      releaseId: RELEASE,
      migration: MIGRATION,
      backfill: BACKFILL,
      chunkMs: 3_600_000,
      onBatch: (progress) => (stopping ||= progress.rowsScanned >= ROWS / 3),
      shouldStop: () => stopping,
    });
    const stoppedAt = required(await readBackfillProgress(db, RELEASE, MIGRATION), 'backfill checkpoint');

    // A new worker: a fresh pool, the heartbeat as its only memory.
    const newWorker = openServiceDatabase(url, { lockTimeout: '2000' });
    try {
      const restarted = Date.now();
      let restartToFirstBatchMs = 0;
      const progress = await runBackfillChunk(newWorker, {
        releaseId: RELEASE,
        migration: MIGRATION,
        backfill: BACKFILL,
        chunkMs: 3_600_000,
        resumeFrom: stoppedAt,
        onBatch: () => (restartToFirstBatchMs ||= Date.now() - restarted),
      });
      return {
        scenario: 'stopped at 1/3, resumed',
        seconds: secondsSince(started),
        progress,
        stoppedAt,
        restartToFirstBatchMs,
        exact: await exact(db),
      };
    } finally {
      await newWorker.destroy();
    }
  });
}

function printReport(quiet: Figures, loaded: Figures, resume: ResumeFigures): void {
  const rate = (figures: Figures) => Math.round(figures.progress.rowsScanned / figures.seconds);
  console.log(`\nbackfill of ${ROWS} rows, batches of ${BATCH}, keyset on users.id\n`);
  printTable(
    [
      'scenario',
      'seconds',
      'rows/s',
      'rows rewritten',
      'app inserts during',
      'app inserts/s (alone → during)',
      'exact',
    ],
    [quiet, loaded, resume].map((figures) => [
      figures.scenario,
      figures.seconds.toFixed(2),
      String(rate(figures)),
      String(figures.progress.rowsUpdated),
      figures.appInserts ? String(figures.appInserts.during) : '-',
      figures.appInserts
        ? `${Math.round(figures.appInserts.perSecondAlone)} → ${Math.round(figures.appInserts.perSecondDuring)}`
        : '-',
      String(figures.exact),
    ]),
  );
  const rescanned = resume.progress.rowsScanned - resume.progress.rowsTotal;
  console.log(`\nresume (stopped at key ${resume.stoppedAt.lastKey}, ${resume.stoppedAt.rowsScanned} rows done)\n`);
  printTable(
    ['figure', 'value'],
    [
      ['rows scanned twice', String(rescanned)],
      ['restart → first batch committed', `${resume.restartToFirstBatchMs} ms`],
      ['one batch at the no-load rate', `${Math.round((BATCH / rate(quiet)) * 1000)} ms`],
      ['time lost vs uninterrupted run', `${(resume.seconds - quiet.seconds).toFixed(2)} s (noise included)`],
      ['resumes counted', String(resume.progress.resumes)],
    ],
  );
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

function backfillToEnd(db: Knex): Promise<BackfillProgress> {
  return runBackfillChunk(db, { releaseId: RELEASE, migration: MIGRATION, backfill: BACKFILL, chunkMs: 3_600_000 });
}

interface SeededDatabase {
  url: string;
  db: Knex;
}

/** A fresh database with ROWS users written before the expand, and the expand's sync trigger. */
async function withSeededDatabase<T>(serverUrl: string, run: (seeded: SeededDatabase) => Promise<T>): Promise<T> {
  const name = `tollgate_bench_${Date.now()}`;
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw('CREATE DATABASE ??', [name]);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = openServiceDatabase(url.toString(), { lockTimeout: '2000' });
  try {
    await db.raw(
      'CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email_address text NOT NULL, primary_email text)',
    );
    await db.raw(
      `INSERT INTO users (name, email_address) SELECT 'user ' || n, 'user' || n || '@example.com' FROM generate_series(1, ?) n`,
      [ROWS],
    );
    // The expand's sync trigger: rows the application writes from now on carry both columns.
    await db.raw(
      `CREATE FUNCTION sync_email() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.primary_email := NEW.email_address; RETURN NEW; END $$`,
    );
    await db.raw(
      'CREATE TRIGGER sync_email BEFORE INSERT OR UPDATE OF email_address ON users FOR EACH ROW EXECUTE FUNCTION sync_email()',
    );
    await db.raw('VACUUM ANALYZE users');
    // So the seeding's WAL is not flushed by a checkpoint in the middle of the measured run.
    await db.raw('CHECKPOINT').catch(() => undefined); // needs a superuser (or pg_checkpoint) on DATABASE_URL's server
    return await run({ url: url.toString(), db });
  } finally {
    await db.destroy();
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
    await admin.destroy();
  }
}

interface InsertLoad {
  /** Inserts so far. */
  inserts(): number;
  /** Stops the inserters; resolves to the inserts in all. */
  stop(): Promise<number>;
}

/** The application: INSERTERS connections, each inserting one row at a time as fast as it can. */
function startInserters(url: string): InsertLoad {
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
    inserts: () => inserts,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await app.destroy();
      return inserts;
    },
  };
}

async function exact(db: Knex): Promise<boolean> {
  const { rows } = await db.raw<{ rows: { wrong: string }[] }>(
    'SELECT count(*) AS wrong FROM users WHERE primary_email IS DISTINCT FROM email_address',
  );
  return rows[0].wrong === '0';
}

function secondsSince(started: number): number {
  return (Date.now() - started) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
