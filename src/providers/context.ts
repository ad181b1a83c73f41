import type { Logger } from 'pino';
import type { ReleaseFacts } from '../domain/release-facts';
import type { Fence } from '../domain/fence';
import { FailureType } from '../domain/failures';

/**
 * What every provider call gets: the release's facts, a key for idempotency and a cancellation
 * signal. Heartbeats are sent for the provider while it runs, so providers need not think of them.
 */
export interface ProviderContext {
  facts: ReleaseFacts;
  /** Stable across retries of the same step: an idempotency key for the user's systems. */
  stepId: string;
  /** Aborted when the step is cancelled (release aborted) or the worker shuts down. */
  signal: AbortSignal;
  log: Logger;
  /**
   * The lane's fencing token for this attempt, on steps that change the world. Exec commands get it
   * as TOLLGATE_FENCE; routers that keep state refuse a write whose token is older than the newest
   * they have seen (StaleWriteRefused).
   */
  fence?: Fence;
  /**
   * Runs a router's read-decide-write under the lane's fence: the write happens only if no newer
   * token has written, and no newer writer can write until it is done. Present with `fence`.
   */
  fenced?: <T>(write: () => Promise<T>) => Promise<T>;
  /**
   * Records a command this step started (its process group), so a retry, a compensation or a new
   * worker on the same host can find and stop it if this worker dies. Returns what to call once it exits.
   */
  trackCommand?: (pid: number, label: string) => Promise<() => Promise<void>>;
}

/**
 * A provider's failure. `retryable: false` means trying again cannot help (bad configuration,
 * a missing secret); the release then rolls back at once instead of after its attempts.
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean = true,
    /** The failure type the release and its clients see (domain/failures.ts). */
    readonly type: FailureType = FailureType.ProviderError,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}
