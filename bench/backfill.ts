import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import { startEmbeddedPostgres, type LocalPostgres } from '../src/devstack/postgres';
import { BACKFILL_CHUNK_MS, type BackfillDeclaration, type BackfillProgress } from '../src/domain/migration-plan';
import { batchSql, runBackfillChunk } from '../src/service-db/backfill';
import { ensureCheckpointTable } from '../src/service-db/backfill-checkpoint';
import { openServiceDatabase } from '../src/service-db/service-database';
import { cpuByProgram, cpuSince } from './process-cpu';

/**
 * `npm run bench:backfill`: the backfill engine against the limit, one `UPDATE` of the whole
 * table, on identical copies of the same table (a fresh database from a template per run), each
 * with and without an application at work beside it, on a real PostgreSQL (DATABASE_URL's server,
 * or an embedded one with fsync on, so a commit costs what it would in production).
 *
 *   npm run bench:backfill                  1,000,000 rows
 *   npm run bench:backfill -- --large       10,000,000 rows
 *   npm run bench:backfill -- --rows 200000 --batch-size 1000 --batch-time 100ms --fixed
 *   npm run bench:backfill -- --timeline /tmp/batches   each batch's rows and time, as JSON per run
 *   npm run bench:backfill -- --chunk 86400000           one chunk (the workflow runs chunks of 5 s)
 *
 * Prints rows/s and the backfill/UPDATE ratio, the backfill's rate in its first and last tenth,
 * and for the application: statements/s, p50/p99/max latency and statements that waited over 1 s.
 */
const flag = (name: string) => process.argv.includes(`--${name}`);
const option = (name: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const ROWS = Number(option('rows') ?? (flag('large') ? 10_000_000 : 1_000_000));
const BACKFILL: BackfillDeclaration = {
  table: 'users',
  key: 'id',
  set: { primary_email: 'email_address' },
  batchSize: Number(option('batch-size') ?? 1000),
  batchTime: option('batch-time'),
  adaptBatchSize: !flag('fixed'),
  pause: '0ms',
};
/** The application: this many connections, each updating a random existing user, then inserting one. */
const APP_CONNECTIONS = 2;
/** The application runs alone this long first, so its latency without a migration is known. */
const APP_ALONE_MS = 3000;
const SLOW_STATEMENT_MS = 1000;
/** The backfill runs as the release workflow runs it: one activity, one chunk, per BACKFILL_CHUNK_MS. */
const CHUNK_MS = Number(option('chunk') ?? BACKFILL_CHUNK_MS);
const TEMPLATE = 'tollgate_bench_template';

interface AppFigures {
  statements: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  over1s: number;
}

interface Run {
  method: 'one UPDATE' | 'backfill';
  load: boolean;
  seconds: number;
  rows: number;
  /** Backfill only: rows/s in the first and the last tenth of the rows. */
  firstTenth?: number;
  lastTenth?: number;
  /** Backfill only: rows/s in each tenth of the rows. */
  tenths?: number[];
  /** Backfill only: batches and their median size. */
  batches?: number;
  medianBatchSize?: number;
  app?: { alone: AppFigures; during: AppFigures };
  exact: boolean;
  /** CPU seconds during the run: the embedded PostgreSQL, this process, and the whole machine (others too). */
  cpu?: { postgres: number; client: number; machine: number };
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
  const say = (line: string) => process.stdout.write(`${line}\n`);
  try {
    say(`backfill benchmark: ${ROWS} rows, ${os.cpus().length} cores, ${os.cpus()[0].model}`);
    const seeding = Date.now();
    await createTemplate(serverUrl);
    say(`template seeded in ${secondsSince(seeding).toFixed(1)} s`);
    await explainBatch(serverUrl, say);
    const runs: Run[] = [];
    for (const load of [false, true]) {
      for (const method of ['one UPDATE', 'backfill'] as const) {
        const run = await withCopy(serverUrl, (copy) =>
          method === 'backfill' ? backfillRun(copy, load) : singleUpdateRun(copy, load),
        );
        say(`  ${describe(run)}`);
        runs.push(run);
      }
    }
    printReport(runs, say);
  } finally {
    const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [TEMPLATE]).catch(() => undefined);
    await admin.destroy();
    await embedded?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The table as an expand leaves it: ROWS users written before, the new column empty, the sync trigger on. */
async function createTemplate(serverUrl: string): Promise<void> {
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [TEMPLATE]);
  await admin.raw('CREATE DATABASE ??', [TEMPLATE]);
  await admin.destroy();
  const db = knex({ client: 'pg', connection: databaseUrl(serverUrl, TEMPLATE), pool: { min: 0, max: 1 } });
  try {
    await db.raw(
      'CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email_address text NOT NULL, primary_email text)',
    );
    await db.raw(
      `INSERT INTO users (name, email_address) SELECT 'user ' || n, 'user' || n || '@example.com' FROM generate_series(1, ?) n`,
      [ROWS],
    );
    await db.raw(
      `CREATE FUNCTION sync_email() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.primary_email := NEW.email_address; RETURN NEW; END $$`,
    );
    await db.raw(
      'CREATE TRIGGER sync_email BEFORE INSERT OR UPDATE OF email_address ON users FOR EACH ROW EXECUTE FUNCTION sync_email()',
    );
    await ensureCheckpointTable(db);
    await db.raw('VACUUM ANALYZE users');
  } finally {
    await db.destroy();
  }
}

interface Copy {
  url: string;
  db: Knex;
}

/** A fresh copy of the template for one run, dropped afterwards. */
async function withCopy<T>(serverUrl: string, run: (copy: Copy) => Promise<T>): Promise<T> {
  const name = `tollgate_bench_${Date.now()}`;
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  // FILE_COPY copies the files (after a checkpoint) instead of writing the whole table to the WAL.
  await admin.raw('CREATE DATABASE ?? TEMPLATE ?? STRATEGY file_copy', [name, TEMPLATE]);
  const url = databaseUrl(serverUrl, name);
  const db = openServiceDatabase(url, { lockTimeout: '2s' });
  try {
    // Each run starts with the same cache and no checkpoint owed: read the table once, then checkpoint.
    await db.raw('SELECT count(*) FROM users');
    await admin.raw('CHECKPOINT').catch(() => undefined); // needs a superuser (or pg_checkpoint) on DATABASE_URL's server
    return await run({ url, db });
  } finally {
    await db.destroy();
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
    await admin.destroy();
  }
}

async function singleUpdateRun(copy: Copy, load: boolean): Promise<Run> {
  const app = load ? await startApplication(copy.url) : undefined;
  const cpuBefore = cpuByProgram();
  const started = Date.now();
  await copy.db.raw(
    'UPDATE users SET primary_email = email_address WHERE primary_email IS DISTINCT FROM email_address',
  );
  const seconds = secondsSince(started);
  const cpu = cpuFigures(cpuBefore);
  return {
    method: 'one UPDATE',
    load,
    seconds,
    rows: ROWS,
    cpu,
    app: await app?.stop(),
    exact: await exact(copy.db),
  };
}

async function backfillRun(copy: Copy, load: boolean): Promise<Run> {
  const app = load ? await startApplication(copy.url) : undefined;
  const timeline: Batch[] = [];
  let lastScanned = 0;
  const cpuBefore = cpuByProgram();
  const started = Date.now();
  let lastBatchEnded = started;
  const onBatch = (batch: BackfillProgress) => {
    const now = Date.now();
    timeline.push({
      startedAt: lastBatchEnded - started,
      ms: now - lastBatchEnded,
      rows: batch.rowsScanned - lastScanned,
    });
    lastScanned = batch.rowsScanned;
    lastBatchEnded = now;
  };
  let progress: BackfillProgress;
  // The time between chunks (closing one, opening the next) counts in the next chunk's first batch.
  do {
    progress = await runBackfillChunk(copy.db, {
      releaseId: 'bench',
      migration: 'add_primary_email',
      backfill: BACKFILL,
      chunkMs: CHUNK_MS,
      onBatch,
    });
  } while (!progress.done);
  const seconds = secondsSince(started);
  const cpu = cpuFigures(cpuBefore);
  const timelineFile = option('timeline');
  if (timelineFile) fs.writeFileSync(`${timelineFile}-${load ? 'app' : 'none'}.json`, JSON.stringify(timeline));
  const tenths = tenthRates(timeline, progress.rowsScanned);
  const sizes = timeline.map((batch) => batch.rows).sort((a, b) => a - b);
  return {
    method: 'backfill',
    load,
    seconds,
    rows: progress.rowsScanned,
    firstTenth: tenths[0],
    lastTenth: tenths[9],
    tenths,
    batches: sizes.length,
    medianBatchSize: sizes[Math.floor(sizes.length / 2)],
    cpu,
    app: await app?.stop(),
    exact: await exact(copy.db),
  };
}

function cpuFigures(before: Map<string, number>): Run['cpu'] {
  const cpu = cpuSince(before);
  const seconds = (name: string) => cpu.get(name) ?? 0;
  return { postgres: seconds('postgres'), client: seconds('bench client'), machine: seconds('whole machine') };
}

/** One batch as the bench saw it: when it began (ms after the start), how long it took, its rows. */
interface Batch {
  startedAt: number;
  ms: number;
  rows: number;
}

/**
 * Rows/s in each tenth of the rows. A tenth ends inside a batch, so the moment it ends is
 * interpolated within that batch: read at batch ends only, a tenth of 1M rows holds three or four
 * batches of 30,000, and the rate swung by a third from one tenth to the next with nothing changed.
 */
function tenthRates(timeline: Batch[], rows: number): number[] {
  const ends: number[] = [];
  let done = 0;
  for (const batch of timeline) {
    while (ends.length < 10 && done + batch.rows >= ((ends.length + 1) * rows) / 10) {
      const into = ((ends.length + 1) * rows) / 10 - done;
      ends.push(batch.startedAt + (batch.rows > 0 ? (batch.ms * into) / batch.rows : batch.ms));
    }
    done += batch.rows;
  }
  return ends.map((end, index) => rows / 10 / Math.max(0.001, (end - (index === 0 ? 0 : ends[index - 1])) / 1000));
}

interface Application {
  /** Stops it; its figures alone (before the migration began) and during the migration. */
  stop(): Promise<{ alone: AppFigures; during: AppFigures }>;
}

/**
 * The application: APP_CONNECTIONS connections, each in a loop updating a random user written
 * before the expand (the rows the migration writes too), then inserting a new one. Resolves once
 * it has run alone for APP_ALONE_MS.
 */
async function startApplication(url: string): Promise<Application> {
  const app = knex({ client: 'pg', connection: url, pool: { min: APP_CONNECTIONS, max: APP_CONNECTIONS } });
  const latencies: { at: number; ms: number }[] = [];
  let running = true;
  const timed = async (sql: string, bindings: (string | number)[]) => {
    const at = Date.now();
    await app.raw(sql, bindings);
    latencies.push({ at, ms: Date.now() - at });
  };
  const loops = Array.from({ length: APP_CONNECTIONS }, async () => {
    while (running) {
      await timed(`UPDATE users SET email_address = 'moved' || id || '@example.com' WHERE id = ?`, [
        1 + Math.floor(Math.random() * ROWS),
      ]);
      await timed(`INSERT INTO users (name, email_address) VALUES ('new', 'new-' || random() || '@example.com')`, []);
    }
  });
  const appStarted = Date.now();
  await sleep(APP_ALONE_MS);
  const migrationStarted = Date.now();
  return {
    stop: async () => {
      const migrationEnded = Date.now();
      running = false;
      await Promise.all(loops);
      await app.destroy();
      // Statements that began during the migration, however long after it they ended.
      const during = latencies.filter((entry) => entry.at >= migrationStarted && entry.at < migrationEnded);
      const alone = latencies.filter((entry) => entry.at < migrationStarted);
      return {
        alone: figures(alone, migrationStarted - appStarted),
        during: figures(during, migrationEnded - migrationStarted),
      };
    },
  };
}

function figures(entries: { ms: number }[], windowMs: number): AppFigures {
  const sorted = entries.map((entry) => entry.ms).sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  return {
    statements: sorted.length,
    perSecond: sorted.length / Math.max(0.001, windowMs / 1000),
    p50: at(50),
    p99: at(99),
    max: sorted[sorted.length - 1] ?? 0,
    over1s: sorted.filter((ms) => ms > SLOW_STATEMENT_MS).length,
  };
}

/** The plan of one batch in the middle of the table: an index range scan on the primary key. */
async function explainBatch(serverUrl: string, say: (line: string) => void): Promise<void> {
  const db = knex({ client: 'pg', connection: databaseUrl(serverUrl, TEMPLATE), pool: { min: 0, max: 1 } });
  try {
    const from = Math.floor(ROWS / 2);
    const { rows } = await db.raw<{ rows: { 'QUERY PLAN': string }[] }>(`EXPLAIN ${batchSql(BACKFILL, true)}`, [
      String(from),
      String(from + 10_000),
      String(from + 10_000),
      10_000,
      10_000,
      false,
      'bench',
      'add_primary_email',
    ]);
    say('plan of a batch of 10,000 keys:');
    for (const row of rows) say(`  ${row['QUERY PLAN']}`);
  } finally {
    await db.destroy();
  }
}

function describe(run: Run): string {
  const tenths = run.tenths
    ? ` (rows/s by tenth: ${run.tenths.map((rate) => Math.round(rate / 1000)).join(' ')} k)`
    : '';
  return `${run.method}${run.load ? ` with ${APP_CONNECTIONS} application connections` : ''}: ${run.rows} rows in ${run.seconds.toFixed(1)} s${tenths}`;
}

function printReport(runs: Run[], say: (line: string) => void): void {
  const rate = (run: Run) => run.rows / run.seconds;
  const find = (method: Run['method'], load: boolean) =>
    runs.find((run) => run.method === method && run.load === load) as Run;
  const batching = BACKFILL.adaptBatchSize
    ? `batches start at ${BACKFILL.batchSize} rows and adapt to ${BACKFILL.batchTime ?? '100ms'}`
    : `batches of ${BACKFILL.batchSize} rows`;
  say(`\n${ROWS} rows; ${batching}; application: ${APP_CONNECTIONS} connections (update a random old row, insert)\n`);
  const header = [
    'method',
    'load',
    'seconds',
    'rows/s',
    'ratio',
    '1st→last tenth rows/s',
    'batches (median rows)',
    'app stmts/s',
    'app p50/p99/max ms',
    'app > 1 s',
    'exact',
    `cpu s pg/client/all (of ${os.cpus().length}×wall)`,
  ];
  const rows = runs.map((run) => {
    const update = find('one UPDATE', run.load);
    const app = run.app?.during;
    return [
      run.method,
      run.load ? 'app' : 'none',
      run.seconds.toFixed(1),
      String(Math.round(rate(run))),
      (rate(run) / rate(update)).toFixed(2),
      run.firstTenth && run.lastTenth ? `${Math.round(run.firstTenth)} → ${Math.round(run.lastTenth)}` : '-',
      run.batches ? `${run.batches} (${run.medianBatchSize})` : '-',
      app ? String(Math.round(app.perSecond)) : '-',
      app ? `${app.p50}/${app.p99}/${app.max}` : '-',
      app ? String(app.over1s) : '-',
      String(run.exact),
      run.cpu ? [run.cpu.postgres, run.cpu.client, run.cpu.machine].map((value) => value.toFixed(1)).join('/') : '-',
    ];
  });
  printTable(header, rows, say);
  const alone = runs.find((run) => run.app)?.app?.alone;
  if (alone)
    say(
      `\napplication alone (first ${APP_ALONE_MS / 1000} s of a loaded run): ${Math.round(alone.perSecond)} stmts/s, p50/p99/max ${alone.p50}/${alone.p99}/${alone.max} ms`,
    );
}

function printTable(header: string[], rows: string[][], say: (line: string) => void): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ');
  say(line(header));
  say(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) say(line(row));
}

async function exact(db: Knex): Promise<boolean> {
  const { rows } = await db.raw<{ rows: { wrong: string }[] }>(
    'SELECT count(*) AS wrong FROM users WHERE primary_email IS DISTINCT FROM email_address',
  );
  return rows[0].wrong === '0';
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
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
