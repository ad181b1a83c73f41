/**
 * Failure types that cross the Temporal boundary, in one table: workflows and activities set them
 * (`ApplicationFailure.nonRetryable(message, FailureType.ApprovalRefused)`), clients read them back
 * (`err.cause.type`). A rename is then a compile error on both sides at once.
 */
export const FailureType = {
  /** An approve or reject update refused by its validator: not an approver, four-eyes, nothing awaits approval. */
  ApprovalRefused: 'ApprovalRefused',
  /** A rollback update refused: the release already ended, is rolling back, or its schema is contracted. */
  RollbackRefused: 'RollbackRefused',
  /** A message whose sender is missing or malformed. */
  InvalidActor: 'InvalidActor',
  /** A provider (deployer, router, metric source) failed; nonRetryable says whether trying again can help. */
  ProviderError: 'ProviderError',
  /** A router read back a weight other than the one it was asked to set. */
  WeightNotVerified: 'WeightNotVerified',
  /** A router refused a write older than the newest one it has seen (the lane's fencing token). */
  StaleWriteRefused: 'StaleWriteRefused',
  /** A command the spec names that the shell cannot find or run (exit 127 or 126). */
  CommandNotFound: 'CommandNotFound',
  /** A migration file that cannot be loaded or has no phase. */
  MigrationFileError: 'MigrationFileError',
  /** An `env:` reference the worker cannot resolve: set the variable where the worker runs. */
  MissingSecret: 'MissingSecret',
  /** SLACK_BOT_TOKEN is not set where the worker runs. */
  SlackNotConfigured: 'SlackNotConfigured',
  /** The spec's Slack channel does not exist, or the app is not in it. */
  SlackChannelNotFound: 'SlackChannelNotFound',
  /** The error budget's query cannot be used (rejected by Prometheus, a bad address). */
  ErrorBudgetInvalid: 'ErrorBudgetInvalid',
  /**
   * How a release that did not succeed ends its workflow (details[0]: its ReleaseResult), so the
   * Temporal UI's list shows it as a failure, never as a green "Completed" like a Succeeded one.
   */
  ReleaseRolledBack: 'ReleaseRolledBack',
  ReleaseFailed: 'ReleaseFailed',
  /** A pipeline run that failed or was rejected (details[0]: its PipelineResult); a superseded one completes. */
  PipelineStopped: 'PipelineStopped',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** The failure's own message when it is an Error, its text otherwise. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The innermost message of a failure. Temporal wraps a step's failure (ActivityFailure →
 * ApplicationFailure → the provider's own error); the deepest cause says what went wrong.
 */
export function deepestMessage(err: unknown): string {
  let message = messageOf(err);
  for (let cause: unknown = err instanceof Error ? err.cause : undefined; cause instanceof Error; cause = cause.cause) {
    message = cause.message || message;
  }
  return message;
}

/** The `type` of the first ApplicationFailure in a failure's chain of causes, if any. */
export function failureTypeOf(err: unknown): string | undefined {
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    const type = (cause as Error & { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return undefined;
}
