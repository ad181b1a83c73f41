/**
 * The lane's fencing token for one change to the world. Tokens grow monotonically per lane: each
 * release takes a new epoch from Tollgate's PostgreSQL when its lane admits it, and numbers its
 * changes within the epoch; its rollback takes the epoch's last number. A write carrying an older
 * token than the newest the lane has seen comes from an attempt something newer has overtaken.
 */
export interface Fence {
  /** The lane the token belongs to: lane:<service>:<environment>. */
  laneId: string;
  token: number;
}

/** Room for this many changes per release; the last is the rollback's. */
export const TOKENS_PER_EPOCH = 1_000_000;

/** The token of a release's `change`-th forward change (1, 2, ...). */
export function forwardFence(laneId: string, epoch: number, change: number): Fence {
  if (change < 1 || change >= TOKENS_PER_EPOCH - 1) throw new Error(`change ${change} is outside its epoch`);
  return { laneId, token: epoch * TOKENS_PER_EPOCH + change };
}

/** The token of a release's rollback: newer than every forward change of the release. */
export function rollbackFence(laneId: string, epoch: number): Fence {
  return { laneId, token: epoch * TOKENS_PER_EPOCH + TOKENS_PER_EPOCH - 1 };
}
