import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import knex from 'knex';
import { freePort } from './free-port';
import { startEmbeddedPostgres, type LocalPostgres } from './postgres';
import { startTemporalDevServer, type DevServer } from './temporal-server';

/** Where `tollgate dev` keeps its state between runs (git-ignored). */
export const STATE_DIR = '.tollgate';
const STACK_FILE = 'stack.json';

export interface LocalStack {
  temporal: DevServer;
  /** Tollgate's own database. */
  databaseUrl: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  stateDir?: string;
  /** Keep workflows and the database across runs (`tollgate dev`); throwaway otherwise (demo, tests). */
  persistent?: boolean;
  temporalPort?: number;
  uiPort?: number;
  log?: (line: string) => void;
}

/** The conventional port when it is free (so links people know work), any free port otherwise. */
async function portOr(preferred: number): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(preferred, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  return free ? preferred : freePort();
}

/**
 * The local stack: a Temporal dev server with its UI and Tollgate's search attributes, and
 * PostgreSQL (DATABASE_URL when set, else an embedded server). Writes stack.json so other
 * `tollgate` commands in this folder find the database.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const stateDir = path.resolve(options.stateDir ?? STATE_DIR);
  const persistent = options.persistent ?? true;
  fs.mkdirSync(stateDir, { recursive: true });
  const log = options.log ?? (() => {});

  let postgres: LocalPostgres | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    log('starting embedded PostgreSQL');
    postgres = await startEmbeddedPostgres(persistent ? { dataDir: path.join(stateDir, 'postgres') } : {});
    databaseUrl = await ensureDatabase(postgres.url, 'tollgate');
  }
  const uiPort = options.uiPort ?? (await portOr(8233));
  log('starting the Temporal dev server');
  const temporal = await startTemporalDevServer({
    port: options.temporalPort ?? (await portOr(7233)),
    uiPort,
    dbFilename: persistent ? path.join(stateDir, 'temporal.db') : undefined,
    log,
  });
  const stackFile = path.join(stateDir, STACK_FILE);
  fs.writeFileSync(
    stackFile,
    JSON.stringify({ temporalAddress: temporal.address, databaseUrl, uiUrl: temporal.uiUrl }, null, 2),
  );
  return {
    temporal,
    databaseUrl,
    uiUrl: temporal.uiUrl,
    stop: async () => {
      fs.rmSync(stackFile, { force: true });
      await temporal.stop();
      await postgres?.stop();
    },
  };
}

/** The running local stack's addresses, for commands run beside `tollgate dev`. */
export function readLocalStack(
  stateDir = STATE_DIR,
): { temporalAddress: string; databaseUrl: string; uiUrl?: string } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(stateDir, STACK_FILE), 'utf8')) as {
      temporalAddress: string;
      databaseUrl: string;
      uiUrl?: string;
    };
  } catch {
    return undefined;
  }
}

/** Creates `name` on the server if needed and returns its URL. */
async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  try {
    const exists = await admin.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_database WHERE datname = ?', [name]);
    if (exists.rows.length === 0) await admin.raw('CREATE DATABASE ??', [name]);
  } finally {
    await admin.destroy();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
