import crypto from 'node:crypto';
import knex, { type Knex } from 'knex';
import { testEnv } from './stack-env';

export interface TestDatabase {
  url: string;
  db: Knex;
  drop(): Promise<void>;
}

/** A fresh, empty database on the test PostgreSQL server, so test files never see each other's rows. */
export async function createTestDatabase(prefix = 'tollgate_test'): Promise<TestDatabase> {
  const adminUrl = testEnv('postgresAdminUrl');
  const name = `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ??`, [name]);
  await admin.destroy();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = knex({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 10 } });
  return {
    url: url.toString(),
    db,
    drop: async () => {
      await db.destroy();
      const again = knex({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
      await again.raw(`DROP DATABASE IF EXISTS ?? WITH (FORCE)`, [name]);
      await again.destroy();
    },
  };
}
