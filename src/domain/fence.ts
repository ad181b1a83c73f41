/**
 * The lane's fencing token for one traffic change. Tokens grow monotonically per lane (kept in
 * Tollgate's PostgreSQL): every traffic change and every rollback takes a newer one, so a write
 * carrying an older token comes from an attempt that something newer has overtaken.
 */
export interface Fence {
  /** The lane the token belongs to: lane:<service>:<environment>. */
  laneId: string;
  token: number;
}
