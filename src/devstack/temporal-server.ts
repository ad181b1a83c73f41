import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Connection } from '@temporalio/client';
import { RELEASE_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { findOrInstallTemporalCli } from './temporal-cli';

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
