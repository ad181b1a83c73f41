import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Connection } from '@temporalio/client';
import { RELEASE_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { findOrInstallTemporalCli } from './temporal-cli';

/**
 * Eager activity execution hands an activity to the worker that scheduled it in the same
 * round trip; without it each step waits on the activity task poll (measured here: 100 ms per
 * step without, 27 ms with). Off by default on servers; recommended for clusters in docs.
 */
const DEV_SERVER_SETTINGS = ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'];

export interface DevServerOptions {
  /** 127.0.0.1 by default: the dev server has no authentication. */
  ip?: string;
  /** A free port when not given. */
  port?: number;
  /** Serve the Temporal UI on this port. */
  uiPort?: number;
  /** Keep workflows across restarts in this SQLite file; in memory when not given. */
  dbFilename?: string;
  namespace?: string;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  connection: Connection;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with Tollgate's search attributes registered, through the
 * SDK's own test environment (which also shuts it down). Uses the CLI found or built by
 * findOrInstallTemporalCli, and the SDK's download only when that finds nothing.
 */
export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = await findOrInstallTemporalCli(options.log);
  const namespace = options.namespace ?? 'default';
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli ? { type: 'existing-path', path: cli.path } : { type: 'cached-download' },
      ip: options.ip ?? '127.0.0.1',
      port: options.port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      dbFilename: options.dbFilename,
      namespace,
      searchAttributes: [...RELEASE_SEARCH_ATTRIBUTES],
      log: { format: 'pretty', level: 'error' },
      extraArgs: [...DEV_SERVER_SETTINGS, ...(process.env.TOLLGATE_DEV_SERVER_ARGS ?? '').split(' ').filter(Boolean)],
    },
  });
  const address = env.address;
  const host = address.split(':')[0];
  return {
    address,
    namespace,
    uiUrl: options.uiPort !== undefined ? `http://${host}:${options.uiPort}` : undefined,
    connection: env.connection,
    stop: () => env.teardown(),
  };
}
