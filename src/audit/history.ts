import type { Knex } from 'knex';
import type { JsonValue, ReleaseEvent, ReleaseEventKind } from '../domain/events';
import type { EndStage, Stage } from '../domain/stages';

/** How many releases `tollgate history` shows when nobody asks for more. */
export const DEFAULT_HISTORY_LIMIT = 20;

export interface ReleaseHistoryQuery {
  service: string;
  /** All environments of the service when omitted. */
  environment?: string;
  limit?: number;
}

/** One release as the history table shows it. Times are ISO strings, like everywhere else in Tollgate. */
export interface ReleaseHistoryRow {
  releaseId: string;
  environment: string;
  version: string;
  stage: Stage;
  outcome?: EndStage;
  initiator: string;
  requestedAt: string;
  finishedAt?: string;
  /** From the request to the end, queue time included: what the person who asked waited. */
  durationMs?: number;
  reason?: string;
}

/** One approval decision, as the approvals table keeps it for auditors. */
export interface ApprovalRecord {
  seq: number;
  step: string;
  approver: string;
  decision: 'approved' | 'rejected';
  comment?: string;
  at: string;
  /** Who decided, as the worker verified it: the channel, the trust, the issuer and its subject. */
  channel?: string;
  trust?: string;
  issuer?: string;
  subject?: string;
}

interface ReleaseHistorySqlRow {
  release_id: string;
  environment: string;
  version: string;
  stage: Stage;
  outcome: EndStage | null;
  initiator: string;
  requested_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  reason: string | null;
}

interface ReleaseEventSqlRow {
  seq: number;
  at: Date;
  stage: Stage;
  kind: ReleaseEventKind;
  actor: string;
  message: string;
  data: { [key: string]: JsonValue } | null;
}

interface ApprovalSqlRow {
  seq: number;
  step: string;
  approver: string;
  decision: 'approved' | 'rejected';
  comment: string | null;
  at: Date;
  channel: string | null;
  trust: string | null;
  issuer: string | null;
  subject: string | null;
}

/** A service's releases, newest request first. */
export async function releaseHistory(
  db: Knex,
  { service, environment, limit = DEFAULT_HISTORY_LIMIT }: ReleaseHistoryQuery,
): Promise<ReleaseHistoryRow[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number above 0, not ${limit}`);
  const query = db('releases')
    .select<ReleaseHistorySqlRow[]>(
      'release_id',
      'environment',
      'version',
      'stage',
      'outcome',
      'initiator',
      'requested_at',
      'finished_at',
      'reason',
      db.raw('(extract(epoch from finished_at - requested_at) * 1000)::float8 as duration_ms'),
    )
    .where({ service })
    // release_id breaks ties so two releases requested in the same instant always list in one order.
    .orderBy([
      { column: 'requested_at', order: 'desc' },
      { column: 'release_id', order: 'desc' },
    ])
    .limit(limit);
  if (environment !== undefined) query.andWhere({ environment });
  const rows = await query;
  return rows.map((row) => ({
    releaseId: row.release_id,
    environment: row.environment,
    version: row.version,
    stage: row.stage,
    outcome: row.outcome ?? undefined,
    initiator: row.initiator,
    requestedAt: row.requested_at.toISOString(),
    finishedAt: row.finished_at?.toISOString(),
    durationMs: row.duration_ms === null ? undefined : Math.round(row.duration_ms),
    reason: row.reason ?? undefined,
  }));
}

/** Everything that happened to one release, in the order the workflow numbered it. */
export async function releaseEvents(db: Knex, releaseId: string): Promise<ReleaseEvent[]> {
  const rows = await db('release_events')
    .select<ReleaseEventSqlRow[]>('seq', 'at', 'stage', 'kind', 'actor', 'message', 'data')
    .where({ release_id: releaseId })
    .orderBy('seq');
  return rows.map((row) => ({
    seq: row.seq,
    at: row.at.toISOString(),
    stage: row.stage,
    kind: row.kind,
    actor: row.actor,
    message: row.message,
    ...(row.data ? { data: row.data } : {}),
  }));
}

/** Who approved or rejected which step of one release, in the order they decided. */
export async function approvalsOf(db: Knex, releaseId: string): Promise<ApprovalRecord[]> {
  const rows = await db('approvals')
    .select<ApprovalSqlRow[]>(
      'seq',
      'step',
      'approver',
      'decision',
      'comment',
      'at',
      'channel',
      'trust',
      'issuer',
      'subject',
    )
    .where({ release_id: releaseId })
    .orderBy('seq');
  return rows.map((row) => ({
    seq: row.seq,
    step: row.step,
    approver: row.approver,
    decision: row.decision,
    ...(row.comment !== null ? { comment: row.comment } : {}),
    at: row.at.toISOString(),
    ...(row.channel !== null ? { channel: row.channel } : {}),
    ...(row.trust !== null ? { trust: row.trust } : {}),
    ...(row.issuer !== null ? { issuer: row.issuer } : {}),
    ...(row.subject !== null ? { subject: row.subject } : {}),
  }));
}
