import type { Knex } from 'knex';
import type { AuditBatch } from '../domain/release';

export type { AuditBatch } from '../domain/release';

/**
 * Writes a release's row and new events in one transaction. Idempotent: events are keyed by
 * (release, seq), so a retried batch inserts nothing twice, and the release row only moves
 * forward (a late, older batch does not overwrite a newer one).
 */
export async function appendToAuditLog(db: Knex, { release, events }: AuditBatch): Promise<void> {
  const lastSeq = events.reduce((max, event) => Math.max(max, event.seq), -1);
  const row = {
    release_id: release.releaseId,
    service: release.service,
    environment: release.environment,
    version: release.version,
    stable_version: release.stableVersion ?? null,
    commit_sha: release.commitSha ?? null,
    committed_at: release.committedAt ?? null,
    initiator: release.initiator,
    strategy: release.strategy,
    stage: release.stage,
    attempt: release.attempt,
    requested_at: release.requestedAt,
    rollback_started_at: release.rollbackStartedAt ?? null,
    finished_at: release.finishedAt ?? null,
    outcome: release.outcome ?? null,
    reason: release.reason ?? null,
    last_seq: lastSeq,
    updated_at: db.fn.now(),
  };
  await db.transaction(async (trx) => {
    await trx('releases').insert(row).onConflict('release_id').merge().where('releases.last_seq', '<=', lastSeq);
    if (events.length === 0) return;
    await trx('release_events')
      .insert(
        events.map((event) => ({
          release_id: release.releaseId,
          seq: event.seq,
          at: event.at,
          stage: event.stage,
          kind: event.kind,
          actor: event.actor,
          message: event.message,
          data: event.data ? JSON.stringify(event.data) : null,
        })),
      )
      .onConflict(['release_id', 'seq'])
      .ignore();
    const decisions = events.filter((event) => event.kind === 'approval' || event.kind === 'rejection');
    if (decisions.length > 0) {
      await trx('approvals')
        .insert(
          decisions.map((event) => ({
            release_id: release.releaseId,
            seq: event.seq,
            step: typeof event.data?.step === 'string' ? event.data.step : '',
            approver: event.actor,
            decision: event.kind === 'approval' ? 'approved' : 'rejected',
            comment: typeof event.data?.comment === 'string' ? event.data.comment : null,
            channel: text(event.data?.via),
            trust: text(event.data?.trust),
            issuer: text(event.data?.issuer),
            subject: text(event.data?.subject),
            at: event.at,
          })),
        )
        .onConflict(['release_id', 'seq'])
        .ignore();
    }
  });
}

/** A text field of an event's data, or null. */
function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
