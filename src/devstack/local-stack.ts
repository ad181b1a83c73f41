import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensureDatabase, startEmbeddedPostgres, type LocalPostgres } from './postgres';
import { isRunning, isRunningAs, stopProcess } from './process-liveness';
import {
  readStackFile,
  removeStackFile,
  STATE_DIR,
  writeStackFile,
  type RecordedProcess,
  type StackRecord,
} from './stack-file';
import { startTemporalDevServer, type DevServer } from './temporal-server';
import { startUnleash, type LocalUnleash } from './unleash';

export { STATE_DIR } from './stack-file';

export interface LocalStack {
  temporal: DevServer;
  /** Tollgate's own database. */
  databaseUrl: string;
  uiUrl?: string;
  /** The Unleash flag service, when asked for (`flags`). */
  unleash?: LocalUnleash;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  stateDir?: string;
  /** Keep workflows and the database across runs (`tollgate dev`); throwaway otherwise (demo, tests). */
  persistent?: boolean;
  temporalPort?: number;
  uiPort?: number;
  log?: (line: string) => void;
  /** The worker's identity mode, told to the CLI commands run beside the stack. */
  auth?: 'none' | 'oidc';
  /** Redraw the progress of a first-run build on this terminal. */
  terminal?: NodeJS.WriteStream;
  /** Also run an Unleash flag service (docs/feature-flags.md), its data in the same PostgreSQL. */
  flags?: boolean;
}

/** Another `tollgate dev` is alive in this folder: two would fight over one database. */
export class StackAlreadyRunning extends Error {}

/**
 * The local stack: a Temporal dev server with its UI and Tollgate's search attributes, and
 * PostgreSQL (DATABASE_URL when set, else an embedded server). Writes stack.json so other
 * `tollgate` commands in this folder find it, with every process it started, so that after a
 * crash (SIGKILL, power cut) the next start in the same folder stops what the dead one left
 * running and carries on with the same data.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const stateDir = path.resolve(options.stateDir ?? STATE_DIR);
  const persistent = options.persistent ?? true;
  fs.mkdirSync(stateDir, { recursive: true });
  const log = options.log ?? (() => {});
  await stopLeftovers(stateDir, log);

  const record: StackRecord = {
    temporalAddress: '',
    databaseUrl: '',
    auth: options.auth,
    pid: process.pid,
    processes: [],
  };
  const remember = (process: RecordedProcess) => {
    record.processes = [...(record.processes ?? []).filter((p) => p.name !== process.name), process];
    writeStackFile(stateDir, record);
  };
  writeStackFile(stateDir, record);

  let postgres: LocalPostgres | undefined;
  let temporal: DevServer | undefined;
  let unleash: LocalUnleash | undefined;
  try {
    let databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) {
      log('starting embedded PostgreSQL');
      const dataDir = persistent ? path.join(stateDir, 'postgres') : undefined;
      postgres = await startEmbeddedPostgres({
        dataDir,
        logFile: persistent ? path.join(stateDir, 'postgres.log') : undefined,
        log,
        onSpawn: (pid) => dataDir && remember({ name: 'postgres', pid, marker: dataDir }),
      });
      databaseUrl = await ensureDatabase(postgres.url, 'tollgate');
    }
    log('starting the Temporal dev server');
    const dbFilename = persistent ? path.join(stateDir, 'temporal.db') : undefined;
    temporal = await startTemporalDevServer({
      port: options.temporalPort,
      preferredPort: 7233,
      ui: true,
      uiPort: options.uiPort,
      preferredUiPort: 8233,
      dbFilename,
      markerNamespace: persistent ? markerNamespace(stateDir) : undefined,
      logFile: persistent ? path.join(stateDir, 'temporal.log') : undefined,
      log,
      terminal: options.terminal,
      onSpawn: (pid) => dbFilename && remember({ name: 'temporal', pid, marker: dbFilename }),
    });
    if (options.flags) {
      const marker = `tollgate-unleash:${stateDir}`;
      unleash = await startUnleash({
        postgresUrl: postgres?.url ?? databaseUrl,
        database: persistent ? 'unleash' : undefined,
        tokensFile: persistent ? path.join(stateDir, 'unleash-tokens.json') : undefined,
        marker,
        log,
      });
      if (unleash.pid) remember({ name: 'unleash', pid: unleash.pid, marker });
    }
    Object.assign(record, {
      temporalAddress: temporal.address,
      databaseUrl,
      uiUrl: temporal.uiUrl,
      unleashUrl: unleash?.url,
    });
    writeStackFile(stateDir, record);
    const started = { temporal, postgres, unleash };
    return {
      temporal,
      databaseUrl,
      uiUrl: temporal.uiUrl,
      unleash,
      stop: async () => {
        await started.unleash?.stop();
        await started.temporal.stop();
        await started.postgres?.stop();
        removeStackFile(stateDir);
      },
    };
  } catch (err) {
    await unleash?.stop();
    await temporal?.stop();
    await postgres?.stop();
    removeStackFile(stateDir);
    throw err;
  }
}

/**
 * What a `tollgate dev` that died left running in `stateDir` is stopped; a live one is an error.
 * A recorded pid is stopped only if its command line still names our data, so a pid reused by
 * another program since is never touched.
 */
async function stopLeftovers(stateDir: string, log: (line: string) => void): Promise<void> {
  const previous = readStackFile(stateDir);
  if (!previous) return;
  if (previous.pid && previous.pid !== process.pid && isRunning(previous.pid) && previous.processes?.length) {
    const alive = previous.processes.filter((p) => isRunningAs(p.pid, p.marker));
    if (alive.length > 0)
      throw new StackAlreadyRunning(
        `another tollgate dev (pid ${previous.pid}) is running in this folder (${stateDir}); stop it first, or use another folder`,
      );
  }
  for (const leftover of previous.processes ?? []) {
    if (!isRunningAs(leftover.pid, leftover.marker)) continue;
    log(`stopping the ${leftover.name} server (pid ${leftover.pid}) that an earlier tollgate dev left running`);
    // PostgreSQL's fast shutdown is SIGINT; the Temporal dev server stops on SIGTERM.
    await stopProcess(leftover.pid, leftover.name === 'postgres' ? 'SIGINT' : 'SIGTERM', 30_000);
  }
  removeStackFile(stateDir);
}

/** One marker namespace per state folder, kept across restarts (the dev server keeps namespaces). */
function markerNamespace(stateDir: string): string {
  const file = path.join(stateDir, 'marker-namespace');
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing) return existing;
  } catch {
    // first run in this folder
  }
  const marker = `tollgate-dev-${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(file, `${marker}\n`);
  return marker;
}

/** The running local stack's addresses, for commands run beside `tollgate dev`. */
export function readLocalStack(stateDir = STATE_DIR): StackRecord | undefined {
  return readStackFile(stateDir);
}
