import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Knex } from 'knex';
import { Duration } from '../domain/spec';
import type { BackfillDeclaration, PendingMigration } from '../domain/migration-plan';

/**
 * A service's migrations folder: plain knex migration files (so `knex migrate:latest` still works
 * on them) that also say their phase, and may declare a backfill:
 *
 *   exports.phase = 'expand';
 *   exports.backfill = { table: 'users', key: 'id', set: { primary_email: 'email_address' } };
 *   exports.up = (knex) => knex.schema.alterTable('users', (t) => t.text('primary_email'));
 *   exports.down = (knex) => knex.schema.alterTable('users', (t) => t.dropColumn('primary_email'));
 */

export const MIGRATION_FILE_PATTERN = /\.(js|cjs)$/;

const Identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, {
  error: 'must be a plain SQL identifier such as "users" or "billing.invoices"',
});
const ColumnName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a plain column name such as "primary_email"' });

export const BackfillSchema = z.strictObject({
  table: Identifier,
  key: ColumnName.default('id'),
  set: z
    .record(ColumnName, z.string().min(1))
    .refine((set) => Object.keys(set).length > 0, { error: 'set at least one column' }),
  where: z.string().min(1).optional(),
  batchSize: z.int().min(1).max(100_000).default(1000),
  batchTime: Duration.optional(),
  adaptBatchSize: z.boolean().optional(),
  pause: Duration.default('0ms'),
  maxRowsPerSecond: z.int().min(1).optional(),
}) satisfies z.ZodType<BackfillDeclaration, unknown>;

const MigrationModule = z.looseObject({
  phase: z.enum(['expand', 'contract'], { error: 'export phase = "expand" or "contract"' }),
  up: z.custom<(knex: Knex) => Promise<unknown>>((value) => typeof value === 'function', {
    error: 'export an up(knex) function',
  }),
  down: z
    .custom<(knex: Knex) => Promise<unknown>>((value) => typeof value === 'function', {
      error: 'must be a down(knex) function',
    })
    .optional(),
  config: z.looseObject({ transaction: z.boolean().optional() }).optional(),
  backfill: BackfillSchema.optional(),
  /** Columns ("table.column") or tables the new version no longer reads: what contract may drop. */
  deprecates: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/)).optional(),
});

export type MigrationModule = z.infer<typeof MigrationModule>;

export interface MigrationFile extends PendingMigration {
  file: string;
  module: MigrationModule;
  deprecates: string[];
}

export class MigrationFileError extends Error {
  override name = 'MigrationFileError';
}

/** The folder's migration files, sorted as knex sorts them. */
export function listMigrationFiles(directory: string): string[] {
  if (!fs.existsSync(directory)) {
    throw new MigrationFileError(
      `database.migrations: ${directory} does not exist; point it at the service's knex migrations folder`,
    );
  }
  return fs
    .readdirSync(directory)
    .filter((name) => MIGRATION_FILE_PATTERN.test(name))
    .sort();
}

/** Loads one file afresh (a release may run after the file changed on disk). */
export function loadMigrationFile(directory: string, name: string): MigrationFile {
  const file = path.join(directory, name);
  const resolved = require.resolve(file);
  delete require.cache[resolved];
  let exported: unknown;
  try {
    // knex migrations are CommonJS modules; loading the service's own file is the point here.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exported = require(resolved);
  } catch (err) {
    throw new MigrationFileError(`${name}: cannot be loaded: ${(err as Error).message}`);
  }
  const parsed = MigrationModule.safeParse(exported);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${[name, ...issue.path].join('.')}: ${issue.message}`);
    throw new MigrationFileError(
      `${problems.join('\n')}\nhint: a Tollgate migration is a knex migration that also exports phase (and optionally backfill)`,
    );
  }
  const module = parsed.data;
  return {
    name,
    file,
    phase: module.phase,
    transactional: module.config?.transaction !== false,
    ...(module.backfill ? { backfill: module.backfill } : {}),
    deprecates: module.deprecates ?? [],
    module,
  };
}

export function loadMigrationFiles(directory: string): MigrationFile[] {
  return listMigrationFiles(directory).map((name) => loadMigrationFile(directory, name));
}
