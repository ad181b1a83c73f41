import type { FlagSnapshot } from '../../domain/flags';
import type { SetFlagStep } from '../../domain/spec';
import type { ProviderContext } from '../context';

/**
 * Changes feature flags in one environment of a flag service, for setFlag steps. A release reads
 * a flag before it changes it, and its rollback puts that reading back.
 */
export interface FlagProvider {
  /** The provider's name as written in specs: `flags.provider`. */
  readonly type: string;
  /** The flag's whole state now, as restore() can put it back. Changes nothing; fails if the flag does not exist. */
  read(ctx: ProviderContext, flag: string): Promise<FlagSnapshot>;
  /**
   * Serves the flag to `change.percentage` percent of users (within its segment, with its variant).
   * Idempotent: applying the change in effect changes nothing. Writes under ctx.fenced when fenced.
   */
  set(ctx: ProviderContext, change: SetFlagStep): Promise<void>;
  /** Puts back exactly what read() returned. Idempotent; writes under ctx.fenced when fenced. */
  restore(ctx: ProviderContext, snapshot: FlagSnapshot): Promise<void>;
}

/** Runs `write` under the lane's fence when the step is fenced (releases before fencing are not). */
export function underFence<T>(ctx: ProviderContext, write: () => Promise<T>): Promise<T> {
  return ctx.fenced ? ctx.fenced(write) : write();
}
