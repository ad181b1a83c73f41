/**
 * Runs one migration in a process of its own, so a test can SIGKILL it half-way, as when a
 * worker's machine dies:  tsx test/support/migration-runner.ts <url> <folder> <file>
 */
import { openServiceDatabase } from '../../src/service-db/service-database';
import { runMigration } from '../../src/service-db/migrator';

async function main(): Promise<void> {
  const [url, directory, name] = process.argv.slice(2);
  const db = openServiceDatabase(url, { lockTimeout: '2000' });
  console.log('migrating');
  await runMigration(db, { url, directory, tableName: 'knex_migrations' }, name, 'up', { retryForMs: 60_000 });
  await db.destroy();
  console.log('migrated');
}

void main();
