import type { Knex } from 'knex';
import * as auditLog from './20261123000000_audit_log';
import * as fencing from './20261130000000_fencing';
import * as decisionIdentity from './20261201000000_decision_identity';

/**
 * Tollgate's own migrations, listed here rather than discovered on disk, so they run the same
 * from TypeScript sources, compiled JavaScript, jest and a container image.
 */
const MIGRATIONS: Record<string, Knex.Migration> = {
  '20261123000000_audit_log': auditLog,
  '20261130000000_fencing': fencing,
  '20261201000000_decision_identity': decisionIdentity,
};

export const tollgateMigrations: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};
