import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { RELEASE_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { preferredOrFreePort } from './free-port';
import { findOrInstallTemporalCli } from './temporal-cli';

/**
 * How often a second the dev server's history service may read its transfer queue (new workflow
 * and activity tasks to hand to matching). The server's default, 20, makes every step of every
 * workflow wait for the next of those reads: a 50 ms quantum per step, for bare Temporal as for
 * Tollgate (bench:orchestration). Reads are still triggered by new tasks, not by a clock, so an
 * idle server does not read more often. A dev-server setting only: a production cluster sets its
 * own dynamic config (docs/architecture.md, "Step latency").
 */
export const DEV_TRANSFER_POLLS_PER_SECOND = 1000;

/**
 * Eager activity execution hands an activity to the worker that scheduled it in the same
 * round trip; without it each step waits on the activity task poll (measured here: 100 ms per
 * step without, 27 ms with). Off by default on servers; recommended for clusters in docs.
 */
const DEV_SERVER_SETTINGS = [
  '--dynamic-config-value',
  'system.enableActivityEagerExecution=true',
  '--dynamic-config-value',
  `history.transferProcessorMaxPollRPS=${DEV_TRANSFER_POLLS_PER_SECOND}`,
  // What the SDK's own test server sets (sdk-core's ephemeral_server), so tests see the same server.
  '--dynamic-config-value',
  'frontend.enableServerVersionCheck=false',
  '--dynamic-config-value',
  'frontend.enableUpdateWorkflowExecution=true',
  '--dynamic-config-value',
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
];

/** How long a dev server may take to answer; a first start on a busy machine takes about 10 s. */
const START_TIMEOUT_MS = 120_000;

/** The CLI's names for search attribute types. */
const CLI_TYPE: Record<string, string> = {
  KEYWORD: 'Keyword',
  INT: 'Int',
  TEXT: 'Text',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export interface DevServerOptions {
  /** 127.0.0.1 by default: the dev server has no authentication. */
  ip?: string;
  /** This port, or else one chosen right before the start: `preferredPort` if free, any free one otherwise. */
  port?: number;
  preferredPort?: number;
  /** Serve the Temporal UI (on `uiPort`, or one chosen like the server's: `preferredUiPort` if free). */
  ui?: boolean;
  uiPort?: number;
  preferredUiPort?: number;
  /** Keep workflows across restarts in this SQLite file; in memory when not given. */
  dbFilename?: string;
  namespace?: string;
  /**
   * A namespace only this server has, created at its start: the proof that the server answering
   * on the port is the one this process started. Random when not given.
   */
  markerNamespace?: string;
  /** The server's own log; a temporary file when not given. */
  logFile?: string;
  log?: (line: string) => void;
  /** Redraw the progress of a first-run build on this terminal. */
  terminal?: NodeJS.WriteStream;
  /** Called as soon as the server process exists, so its pid can be recorded before anything else can fail. */
  onSpawn?: (pid: number) => void;
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  /** The server's process, when Tollgate started it itself (not the SDK's download). */
  pid?: number;
  /** Its command line contains this (for recognising a leftover later). */
  marker?: string;
  stop(): Promise<void>;
}

/** A dev server that did not come up, with the reason and the end of its log. */
export class DevServerFailed extends Error {}

/**
 * Starts `temporal server start-dev` with Tollgate's search attributes registered. Tollgate runs
 * the CLI found or built by findOrInstallTemporalCli itself, so it knows the process: it picks the
 * port right before the start, checks the process is alive and that the server answering on the
 * port is this one (it has `markerNamespace`), and retries on another port if the port was taken
 * meanwhile. Anything else is an error: never a silent fallback to someone else's server. Only
 * when no CLI can be found or built does it use the SDK's download (machines with internet).
 */
export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = await findOrInstallTemporalCli(options.log, { terminal: options.terminal });
  if (!cli) return startDownloadedDevServer(options);
  const ip = options.ip ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const marker = options.markerNamespace ?? `tollgate-dev-${crypto.randomBytes(4).toString('hex')}`;
  const logFile =
    options.logFile ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-temporal-')), 'temporal.log');
  for (let attempt = 1; ; attempt++) {
    // Chosen right before the start; the server binds them itself and is verified below.
    const port = options.port ?? (await preferredOrFreePort(attempt === 1 ? options.preferredPort : undefined, ip));
    const ui = options.ui || options.uiPort !== undefined;
    const uiPort = ui
      ? (options.uiPort ?? (await preferredOrFreePort(attempt === 1 ? options.preferredUiPort : undefined, ip)))
      : undefined;
    const args = [
      'server',
      'start-dev',
      '--ip',
      ip,
      '--port',
      String(port),
      ...(uiPort !== undefined ? ['--ui-port', String(uiPort)] : ['--headless']),
      ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
      ...(namespace !== 'default' ? ['--namespace', namespace] : []),
      '--namespace',
      marker,
      ...RELEASE_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${CLI_TYPE[key.type]}`]),
      ...DEV_SERVER_SETTINGS,
      '--log-level',
      'warn',
      ...(process.env.TOLLGATE_DEV_SERVER_ARGS ?? '').split(' ').filter(Boolean),
    ];
    const logFd = fs.openSync(logFile, 'a');
    // Output to a file, not a pipe: a server that outlives a killed `tollgate dev` must not die of a broken pipe.
    const child = spawn(cli.path, args, { stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const address = `${ip}:${port}`;
    const stop = async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child, exited);
    };
    try {
      await waitUntilOurs(child, address, marker, logFile);
      if (uiPort !== undefined) await waitForUi(child, `http://${ip}:${uiPort}`, marker, logFile);
    } catch (err) {
      await stop();
      // The whole log: a server that cannot bind panics, and its stack trace buries the reason.
      const portTaken =
        /address already in use|bind: /i.test(wholeLog(logFile)) || /UI did not answer/.test(String(err));
      if (portTaken && (options.port === undefined || (ui && options.uiPort === undefined)) && attempt < 3) {
        options.log?.(
          `a port was taken while the dev server started (${port}${uiPort ? `, UI ${uiPort}` : ''}); trying others`,
        );
        continue;
      }
      throw err;
    }
    return {
      address,
      namespace,
      uiUrl: uiPort !== undefined ? `http://${ip === '0.0.0.0' ? '127.0.0.1' : ip}:${uiPort}` : undefined,
      pid: child.pid,
      marker: options.dbFilename ?? marker,
      stop,
    };
  }
}

function wholeLog(logFile: string): string {
  try {
    return fs.readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
}

function tail(logFile: string): string {
  try {
    return fs.readFileSync(logFile, 'utf8').slice(-2000).trim();
  } catch {
    return '';
  }
}

/** Until the server on `address` answers and has our marker namespace; throws if our process dies first. */
async function waitUntilOurs(child: ChildProcess, address: string, marker: string, logFile: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: string;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new DevServerFailed(
        `the Temporal dev server exited (${child.exitCode ?? child.signalCode}) before it answered on ${address}:\n${tail(logFile)}`,
      );
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: '2s' });
      await connection.workflowService.describeNamespace({ namespace: marker });
      return;
    } catch (err) {
      // "not found": something answers there without our namespace. Our own server may not have
      // created it yet, or another server holds the port (then ours exits, unable to bind).
      lastError = /not found/i.test((err as Error).message)
        ? `a server answers on ${address} without namespace ${marker}: not the one Tollgate started`
        : (err as Error).message;
    } finally {
      await connection?.close().catch(() => {});
    }
    if (Date.now() > deadline)
      throw new DevServerFailed(
        `the Temporal dev server did not answer on ${address} within ${START_TIMEOUT_MS / 1000}s (${lastError}):\n${tail(logFile)}`,
      );
    await sleep(250);
  }
}

/** The UI on `url` proxies to our server: asking it for our marker namespace proves both. */
async function waitForUi(child: ChildProcess, url: string, marker: string, logFile: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last: string;
  for (;;) {
    if (child.exitCode !== null)
      throw new DevServerFailed(`the Temporal dev server exited before its UI answered on ${url}:\n${tail(logFile)}`);
    try {
      const response = await fetch(`${url}/api/v1/namespaces/${marker}`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new DevServerFailed(
        `the Temporal UI did not answer as this dev server's on ${url} within ${START_TIMEOUT_MS / 1000}s (${last}); is another program using the port?`,
      );
    await sleep(250);
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(force);
}

/**
 * Without a CLI of our own (no Go, no TEMPORAL_CLI): the SDK downloads one and runs it. Loaded
 * only then; the SDK keeps the process to itself, so a crash of `tollgate dev` cannot be cleaned up.
 */
async function startDownloadedDevServer(options: DevServerOptions): Promise<DevServer> {
  const { TestWorkflowEnvironment } = require('@temporalio/testing') as typeof import('@temporalio/testing');
  const namespace = options.namespace ?? 'default';
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip: options.ip ?? '127.0.0.1',
      port: options.port ?? options.preferredPort,
      ui: Boolean(options.ui || options.uiPort !== undefined),
      uiPort: options.uiPort ?? options.preferredUiPort,
      dbFilename: options.dbFilename,
      namespace,
      searchAttributes: [...RELEASE_SEARCH_ATTRIBUTES],
      log: { format: 'pretty', level: 'error' },
      extraArgs: [...DEV_SERVER_SETTINGS, ...(process.env.TOLLGATE_DEV_SERVER_ARGS ?? '').split(' ').filter(Boolean)],
    },
  });
  const host = env.address.split(':')[0];
  return {
    address: env.address,
    namespace,
    uiUrl:
      options.ui || options.uiPort !== undefined
        ? `http://${host}:${options.uiPort ?? options.preferredUiPort}`
        : undefined,
    stop: () => env.teardown(),
  };
}
