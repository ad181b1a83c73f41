import crypto from 'node:crypto';
import { Client } from 'pg';

/**
 * A PostgreSQL session-level advisory lock on a connection of its own. Unlike knex's
 * `knex_migrations_lock` row, it goes away with its session: a worker killed while migrating
 * leaves nothing locked behind it.
 */
export interface HeldLock {
  release(): Promise<void>;
}

/** A stable 64-bit lock key for a name, so every Tollgate worker picks the same one. */
export function advisoryLockKey(name: string): string {
  return crypto.createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

export async function acquireAdvisoryLock(
  url: string,
  name: string,
  options: { waitMs: number; onWait?: (waitedMs: number) => void },
): Promise<HeldLock> {
  const client = new Client({ connectionString: url, application_name: 'tollgate-migration-lock' });
  // A dropped connection must not crash the worker; the lock is gone with it anyway.
  client.on('error', () => undefined);
  await client.connect();
  const key = advisoryLockKey(name);
  const started = Date.now();
  try {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
        key,
      ]);
      if (rows[0]?.locked) break;
      const waited = Date.now() - started;
      if (waited > options.waitMs) {
        throw new Error(
          `another migration holds the lock "${name}" (PostgreSQL advisory lock ${key}) for over ${Math.round(waited / 1000)}s`,
        );
      }
      options.onWait?.(waited);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return {
    release: async () => {
      // Ending the session releases the lock even if the unlock statement fails.
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
