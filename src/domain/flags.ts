import type { SetFlagStep } from './spec';

/**
 * A flag's whole state in one environment as its provider read it before a setFlag step changed
 * it: what that step's compensation puts back. The provider alone knows its shape (Unleash: on or
 * off, and every strategy); it holds no secrets, so it may sit in workflow history.
 */
export interface FlagSnapshot {
  flag: string;
  state: unknown;
}

/** Where a release left one flag: its last setFlag step's change. */
export interface FlagSetting {
  flag: string;
  percentage: number;
  variant?: string;
  segment?: string;
  /** The flag was put back as the release found it (rollback). */
  restored?: boolean;
}

/** A setFlag step as one line: "new-checkout at 5% (internal-users, variant blue)". */
export function describeFlagChange(change: Pick<SetFlagStep, 'flag' | 'percentage' | 'variant' | 'segment'>): string {
  const details = [change.segment, change.variant && `variant ${change.variant}`].filter(Boolean);
  return `${change.flag} at ${change.percentage}%${details.length ? ` (${details.join(', ')})` : ''}`;
}

/**
 * Flags a succeeded release turned on for every user: their code paths are the only ones left, so
 * the flag (and the dead branch) should now be removed. A segment-only setting is not everyone.
 */
export function flagsToCleanUp(flags: FlagSetting[] | undefined): string[] {
  return (flags ?? [])
    .filter((flag) => !flag.restored && flag.percentage === 100 && !flag.segment)
    .map((flag) => flag.flag);
}
