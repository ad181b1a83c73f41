import knex, { type Knex } from 'knex';

/**
 * Connections to the services' own databases (not Tollgate's), one small pool per URL, kept for
 * the worker's life. Every connection gets a short `lock_timeout` as it is created: a session
 * setting only guards statements on its own connection, and a pool hands out any connection, so
 * setting it once per query would miss. A migration that cannot get its lock in time fails fast,
 * and Tollgate waits and tries again; the application's queries never queue behind it.
 *
 * Connections also ask PostgreSQL (14 and later) to notice a vanished client during a long
 * statement: without it, a statement of a worker that died runs on to its end, holding its locks
 * and its snapshot (which CREATE INDEX CONCURRENTLY then waits for).
 */
export interface ServiceDatabaseOptions {
  /** How long DDL may wait for a lock before it gives up (PostgreSQL syntax: "2s", "500ms"). */
  lockTimeout: string;
}

export const DEFAULT_LOCK_TIMEOUT = '2s';
const CLIENT_CHECK_INTERVAL = '2s';

export class ServiceDatabases {
  private readonly pools = new Map<string, Knex>();

  get(url: string, options: ServiceDatabaseOptions = { lockTimeout: DEFAULT_LOCK_TIMEOUT }): Knex {
    const key = `${options.lockTimeout} ${url}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = openServiceDatabase(url, options);
      this.pools.set(key, pool);
    }
    return pool;
  }

  async closeAll(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}

interface PgConnection {
  query(sql: string, callback: (err: Error | null) => void): void;
}

export function openServiceDatabase(url: string, options: ServiceDatabaseOptions): Knex {
  if (!/^\d+(ms|s|min)?$/.test(options.lockTimeout))
    throw new RangeError(`lock timeout ${options.lockTimeout} is not a PostgreSQL duration such as "2s"`);
  return knex({
    client: 'pg',
    connection: { connectionString: url, application_name: 'tollgate' },
    pool: {
      min: 0,
      max: 4,
      afterCreate: (connection: PgConnection, done: (err: Error | null, connection: PgConnection) => void) => {
        connection.query(`SET lock_timeout = '${options.lockTimeout}'`, (err) => {
          if (err) return done(err, connection);
          // Unknown before PostgreSQL 14: then the server simply finds out later.
          connection.query(`SET client_connection_check_interval = '${CLIENT_CHECK_INTERVAL}'`, () =>
            done(null, connection),
          );
        });
      },
    },
    // knex logs every failed migration itself; Tollgate reports them (and retries busy ones) already.
    log: { warn: () => undefined, error: () => undefined, debug: () => undefined, deprecate: () => undefined },
  });
}
