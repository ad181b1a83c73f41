import { type DeployWindow, formatDeployWindow, isInsideWindow, nextWindowOpening } from './deploy-window';

export interface Freeze {
  reason: string;
  by: string;
  at: string;
  /** ISO time when the freeze lifts by itself; without it, only unfreeze lifts it. */
  until?: string;
}

/** What a lane allows: set by `tollgate freeze` / `unfreeze` / `windows`, read by every release of the lane. */
export interface LanePolicy {
  freeze?: Freeze;
  windows: DeployWindow[];
}

export type Gate = { open: true } | { open: false; reason: string; reopensAt?: string };

/**
 * May a release move forward now? Rollbacks never ask: undoing a release is never held.
 * When the gate is closed, `reopensAt` tells the workflow how long to sleep on a durable timer.
 */
export function laneGate(policy: LanePolicy, now: Date): Gate {
  const { freeze } = policy;
  if (freeze && (!freeze.until || Date.parse(freeze.until) > now.getTime())) {
    return {
      open: false,
      reason: `lane frozen by ${freeze.by}: ${freeze.reason}${freeze.until ? ` (until ${freeze.until})` : ''}`,
      reopensAt: freeze.until,
    };
  }
  if (policy.windows.length > 0 && !policy.windows.some((window) => isInsideWindow(window, now))) {
    const reopensAt = nextWindowOpening(policy.windows, now)?.toISOString();
    return {
      open: false,
      reason: `outside deploy windows (${policy.windows.map(formatDeployWindow).join('; ')})${reopensAt ? `; next opens ${reopensAt}` : ''}`,
      reopensAt,
    };
  }
  return { open: true };
}
