import type { Knex } from 'knex';
import { escapeLiteral } from 'pg';
import { rollbackFence, TOKENS_PER_EPOCH, type Fence } from '../domain/fence';
import { StaleWriteRefused } from '../providers/fencing';

/** Who wants to write: recorded with a refusal. */
export interface FencedWriter {
  releaseId: string;
  stepId: string;
  attempt: number;
  /** The router or step that writes: "haproxy", "exec", ... */
  writer: string;
}

/** What the fenced write needs of the pg client under knex's pool (a multi-statement message answers one result each). */
interface PgConnection {
  query(text: string): Promise<{ rows: unknown[] }[]>;
}

/** knex's client lends the pg connections of its pool (its `acquireConnection` / `releaseConnection`). */
interface KnexConnectionPool {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<void>;
}

interface FenceRow {
  lane_id: string;
  epoch: string;
  token: string;
}

/**
 * The lanes' fences in Tollgate's PostgreSQL (docs/architecture.md, "What survives what").
 *
 * A write is fenced by holding the lane's row (one upsert that moves its token only forwards) for
 * the whole read-decide-write: an older token than the row's is refused and recorded, and no other writer of
 * the lane can write until this one commits or its session ends. A writer that dies releases the
 * row with its connection.
 */
export class LaneFences {
  constructor(private readonly db: Knex) {}

  /** A new epoch for a release its lane has just admitted: newer than every earlier release's. */
  async takeEpoch(laneId: string): Promise<number> {
    const rows = await this.db.raw<{ rows: { epoch: string }[] }>(
      `INSERT INTO lane_fences (lane_id, epoch) VALUES (?, 1)
       ON CONFLICT (lane_id) DO UPDATE SET epoch = lane_fences.epoch + 1, updated_at = now()
       RETURNING epoch`,
      [laneId],
    );
    return Number(rows.rows[0]?.epoch);
  }

  /** Makes `fence` the newest: every attempt with an older token is refused from now on (a rollback began). */
  async raise(fence: Fence): Promise<void> {
    await this.db.raw(
      `INSERT INTO lane_fences (lane_id, token) VALUES (?, ?)
       ON CONFLICT (lane_id) DO UPDATE SET token = GREATEST(lane_fences.token, EXCLUDED.token), updated_at = now()`,
      [fence.laneId, fence.token],
    );
  }

  /**
   * Refuses (and records) an attempt whose token something newer has overtaken, before it starts.
   * One read, outside a transaction: a single statement sees one snapshot, and the write itself is
   * fenced again (`write`); only a refusal, which is rare, takes a transaction to record itself.
   */
  async check(fence: Fence, writer: FencedWriter): Promise<void> {
    const newest = await this.newest(this.db, fence.laneId, false);
    if (newest <= fence.token) return;
    throw await this.db.transaction((trx) => this.refusal(trx, fence, newest, writer));
  }

  /** Records an attempt refused for another reason than its token (its release is rolling back), and says why. */
  async refuseRolledBack(fence: Fence, writer: FencedWriter, why: string): Promise<StaleWriteRefused> {
    const rollback = rollbackFence(fence.laneId, Math.floor(fence.token / TOKENS_PER_EPOCH));
    await this.db.transaction((trx) => this.refusal(trx, fence, rollback.token, writer)); // recorded
    return new StaleWriteRefused(
      `${writer.stepId} (attempt ${writer.attempt}) was not run: ${why}`,
      fence,
      rollback.token,
    );
  }

  /**
   * Runs `write` under the lane's fence; afterwards the lane's newest token is this one. One
   * statement takes the lane's row (creating it if needed) and moves its token, only if it is not
   * newer: the row stays locked until `write` is done and the transaction commits (or rolls back
   * the token with a failed write). No row back means a newer token: refused and recorded.
   *
   * Every fenced step pays for this on its critical path, so it is two round trips: BEGIN and the
   * upsert in one message, then COMMIT (a knex transaction sends BEGIN on its own and costs half a
   * millisecond more per step; bench:orchestration). The commit stays synchronous: a token that
   * a crash of the database could lose would let an older attempt write after this one.
   */
  async write<T>(fence: Fence, writer: FencedWriter, write: () => Promise<T>): Promise<T> {
    if (!Number.isSafeInteger(fence.token)) throw new Error(`fencing token ${fence.token} is not an integer`);
    const pool = this.db.client as KnexConnectionPool;
    const connection = await pool.acquireConnection();
    let open = true; // a transaction may be open until COMMIT succeeds: otherwise always rolled back
    try {
      const [, taken] = await connection.query(
        `BEGIN;
         INSERT INTO lane_fences (lane_id, token) VALUES (${escapeLiteral(fence.laneId)}, ${fence.token})
         ON CONFLICT (lane_id) DO UPDATE SET token = EXCLUDED.token, updated_at = now()
         WHERE lane_fences.token <= EXCLUDED.token
         RETURNING token`,
      );
      if (taken.rows.length > 0) {
        const written = await write();
        await connection.query('COMMIT');
        open = false;
        return written;
      }
    } finally {
      // A connection that broke is marked so by knex, and its pool replaces it.
      if (open) await connection.query('ROLLBACK').catch(() => undefined);
      await pool.releaseConnection(connection);
    }
    // Refused: recorded outside the held row (the newest token may have moved on since: recorded as seen).
    throw await this.db.transaction(async (trx) =>
      this.refusal(trx, fence, await this.newest(trx, fence.laneId, false), writer),
    );
  }

  private async newest(trx: Knex | Knex.Transaction, laneId: string, lock: boolean): Promise<number> {
    const query = trx<FenceRow>('lane_fences').where({ lane_id: laneId }).first('token');
    const row = await (lock ? query.forUpdate() : query);
    return row ? Number(row.token) : 0;
  }

  /** Records the refusal (it commits with the transaction) and says why. */
  private async refusal(
    trx: Knex.Transaction,
    fence: Fence,
    newest: number,
    writer: FencedWriter,
  ): Promise<StaleWriteRefused> {
    await trx('fence_refusals').insert({
      lane_id: fence.laneId,
      release_id: writer.releaseId,
      step_id: writer.stepId,
      attempt: writer.attempt,
      token: fence.token,
      newer_token: newest,
      writer: writer.writer,
    });
    return new StaleWriteRefused(
      `${writer.stepId} (attempt ${writer.attempt}) was fenced off: ${fence.laneId} has seen fencing token ${newest}, newer than this attempt's ${fence.token} (a rollback or a newer attempt began), so it does not write`,
      fence,
      newest,
    );
  }
}
