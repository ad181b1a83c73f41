import type { Knex } from 'knex';
import type { ReleaseClient } from '../client/release-client';
import type { Config } from '../config';
import { TollgateError } from '../domain/errors';
import { readStackFile } from '../devstack/stack-file';
import type { IdentitySettings } from '../identity/settings';
import type { CliIdentity, ClaimedIdentityOptions } from './actor';

/**
 * What CLI commands need, made only when asked for and loaded only then: `tollgate validate` needs
 * no Temporal, and `tollgate status` no database, so neither pays for loading the other's client
 * (the CLI answers in a few hundred milliseconds; see `npm run bench:cli`). Beside a running
 * `tollgate dev`, its addresses are the defaults.
 */
export class CliContext {
  private releaseClient?: ReleaseClient;
  private database?: Knex;

  private constructor(readonly config: Config) {}

  static create(env: NodeJS.ProcessEnv = process.env): CliContext {
    const { loadConfig } = require('../config') as typeof import('../config');
    const local = readStackFile();
    return new CliContext(
      loadConfig({
        ...env,
        TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS || local?.temporalAddress,
        DATABASE_URL: env.DATABASE_URL || local?.databaseUrl,
        TEMPORAL_UI_URL: env.TEMPORAL_UI_URL || local?.uiUrl,
        // Beside a `tollgate dev` in local mode, so is the CLI (it said so when it started).
        TOLLGATE_AUTH: env.TOLLGATE_AUTH || (!env.TOLLGATE_OIDC_ISSUER && local?.auth === 'none' ? 'none' : undefined),
      }),
    );
  }

  async releases(): Promise<ReleaseClient> {
    if (!this.releaseClient) {
      const { ReleaseClient } = require('../client/release-client') as typeof import('../client/release-client');
      const { connectClient } = require('../temporal/connection') as typeof import('../temporal/connection');
      this.releaseClient = new ReleaseClient(await connectClient(this.config), this.config.TOLLGATE_TASK_QUEUE);
    }
    return this.releaseClient;
  }

  /** How this CLI proves who runs it: `tollgate login`'s tokens, or local mode. */
  identitySettings(): IdentitySettings {
    const { identitySettings } = require('../identity/settings') as typeof import('../identity/settings');
    return identitySettings(this.config);
  }

  /** Who runs this command, with the proof the worker will check. */
  identity(options: ClaimedIdentityOptions): Promise<CliIdentity> {
    const { cliIdentity } = require('./actor') as typeof import('./actor');
    return cliIdentity(this.identitySettings(), options);
  }

  db(): Knex {
    if (!this.config.DATABASE_URL) {
      throw new TollgateError(
        'CONFIG_INVALID',
        "DATABASE_URL is not set: point it at Tollgate's PostgreSQL, or run this beside `tollgate dev`",
      );
    }
    if (!this.database) {
      const { openDatabase } = require('../audit/database') as typeof import('../audit/database');
      this.database = openDatabase(this.config.DATABASE_URL, { min: 0, max: 2 });
    }
    return this.database;
  }

  async close(): Promise<void> {
    await this.releaseClient?.client.connection.close();
    await this.database?.destroy();
  }
}
