import ms from 'ms';

/**
 * Durations in specs are written the way people say them: "30s", "5m", "24h", "1.5h".
 * They stay strings in the spec (and in workflow history) so a reader sees what was asked for;
 * code that needs a number calls `toMillis`.
 *
 * No zod here: workflows import this file, and every workflow instance pays for what its bundle loads.
 */
export const DURATION_PATTERN = /^\d+(\.\d+)?(ms|s|m|h|d)$/;

/** A duration as written in a spec; validated by the `Duration` schema in spec.ts. */
export type Duration = string;

export function toMillis(duration: Duration): number {
  const value = ms(duration as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`not a duration: ${duration}`);
  }
  return value;
}

/** "90000" ms -> "1m 30s"; for people, never parsed back. */
export function formatMillis(millis: number): string {
  if (millis < 1000) return `${Math.round(millis)}ms`;
  const totalSeconds = Math.round(millis / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts: string[] = [];
  if (hours) parts.push(`${hours}h`);
  if (minutes) parts.push(`${minutes}m`);
  if (seconds || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join(' ');
}
