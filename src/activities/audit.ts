import { appendToAuditLog, type AuditBatch } from '../audit/audit-log';
import type { ActivityDeps } from './deps';

export function createAuditActivities(deps: ActivityDeps) {
  return {
    /** Appends a release's new events and its current row to the audit log; safe to retry. */
    async recordAudit(batch: AuditBatch): Promise<void> {
      await appendToAuditLog(deps.db, batch);
    },
  };
}
