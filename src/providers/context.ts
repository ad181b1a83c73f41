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
   * The lane's fencing token for this attempt, on traffic changes. Routers that keep state refuse a
   * write whose token is older than the newest they have seen (StaleWriteRefused).
   */
  fence?: Fence;
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
