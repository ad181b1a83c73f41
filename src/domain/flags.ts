import type { ReleaseStatus } from './release';
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

/** Where a release left one flag for one audience (everyone, or a segment): its last setFlag step's change there. */
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
 * the flag (and the dead branch behind it) should now be removed. Listed once the release has
 * Succeeded (after the contract, when it has one); a segment-only setting is not everyone.
 */
export function flagsToCleanUp(status: Pick<ReleaseStatus, 'flags' | 'outcome'>): string[] {
  if (status.outcome?.stage !== 'Succeeded') return [];
  const everyone = (status.flags ?? []).filter((flag) => !flag.restored && flag.percentage === 100 && !flag.segment);
  return [...new Set(everyone.map((flag) => flag.flag))];
}

/** Where the release left one flag, for the CLI and Slack. */
export function describeFlagSetting(setting: FlagSetting): string {
  return setting.restored ? `${setting.flag}: put back as the release found it` : describeFlagChange(setting);
}
