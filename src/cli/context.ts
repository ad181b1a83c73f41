import type { Knex } from 'knex';
import { ReleaseClient } from '../client/release-client';
import { loadConfig, type Config } from '../config';
import { openDatabase } from '../audit/database';
import { readLocalStack } from '../devstack/local-stack';
import { TollgateError } from '../domain/errors';
import { connectClient } from '../temporal/connection';

/**
 * What CLI commands need, made only when asked for: `tollgate validate` needs no Temporal, and
 * `tollgate status` no database. Beside a running `tollgate dev`, its addresses are the defaults.
 */
export class CliContext {
  private releaseClient?: ReleaseClient;
  private database?: Knex;
  readonly config: Config;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const local = readLocalStack();
    this.config = loadConfig({
      ...env,
      TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS || local?.temporalAddress,
      DATABASE_URL: env.DATABASE_URL || local?.databaseUrl,
      TEMPORAL_UI_URL: env.TEMPORAL_UI_URL || local?.uiUrl,
    });
  }

  async releases(): Promise<ReleaseClient> {
    this.releaseClient ??= new ReleaseClient(await connectClient(this.config), this.config.TOLLGATE_TASK_QUEUE);
    return this.releaseClient;
  }

  db(): Knex {
    if (!this.config.DATABASE_URL) {
      throw new TollgateError(
        'CONFIG_INVALID',
        "DATABASE_URL is not set: point it at Tollgate's PostgreSQL, or run this beside `tollgate dev`",
      );
    }
    this.database ??= openDatabase(this.config.DATABASE_URL, { min: 0, max: 2 });
    return this.database;
  }

  async close(): Promise<void> {
    await this.releaseClient?.client.connection.close();
    await this.database?.destroy();
  }
}
