/**
 * Runs a backfill in a process of its own, so a test can SIGKILL it half-way, as when a worker's
 * machine dies:  tsx test/support/backfill-runner.ts <url> <releaseId> <migration> <backfill as JSON>
 *
 * Prints "batch <rowsScanned> <lastKey>" after each committed batch, so the test knows when to kill.
 */
import type { BackfillDeclaration } from '../../src/domain/migration-plan';
import { runBackfillChunk } from '../../src/service-db/backfill';
import { openServiceDatabase } from '../../src/service-db/service-database';

async function main(): Promise<void> {
  const [url, releaseId, migration, declaration] = process.argv.slice(2);
  const db = openServiceDatabase(url, { lockTimeout: '2000' });
  const progress = await runBackfillChunk(db, {
    releaseId,
    migration,
    backfill: JSON.parse(declaration) as BackfillDeclaration,
    chunkMs: 3_600_000,
    onBatch: (batch) => console.log(`batch ${batch.rowsScanned} ${batch.lastKey ?? ''}`),
  });
  console.log(`done ${progress.rowsScanned}`);
  await db.destroy();
}

void main();
