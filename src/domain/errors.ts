import { FailureType } from './failures';

/**
 * Errors a person can act on. Each carries a stable code (for programs and tests) and a message
 * that says what is wrong and what to do next. The CLI prints them as one line, never a stack trace.
 */
export class TollgateError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface SpecProblem {
  /** Where in the spec, as a dotted path: strategy.canary.steps.2.setWeight */
  path: string;
  message: string;
}

/** A spec that cannot be released. Lists every problem, not only the first. */
export class SpecError extends TollgateError {
  constructor(
    readonly origin: string,
    readonly problems: SpecProblem[],
  ) {
    super(
      'SPEC_INVALID',
      `${origin} is not a valid release spec (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  ${problem.path || '(top level)'}: ${problem.message}`).join('\n') +
        '\nFix these and start the release again; nothing was started. The spec format is in docs/spec.md.',
    );
  }
}

/** Environment configuration of a Tollgate process that is missing or wrong. */
export class ConfigError extends TollgateError {
  constructor(readonly problems: SpecProblem[]) {
    super(
      'CONFIG_INVALID',
      'Tollgate cannot start; its configuration is incomplete:\n' +
        problems.map((problem) => `  ${problem.path}: ${problem.message}`).join('\n'),
    );
  }
}

/** Raised to an approver whose decision the release refuses; the release is unchanged. */
export class ApprovalRefused extends TollgateError {
  constructor(message: string) {
    super('APPROVAL_REFUSED', message);
  }
}

/** A rollback the release refuses: already ended, already rolling back, or the schema is contracted. */
export class RollbackRefused extends TollgateError {
  constructor(message: string) {
    super('ROLLBACK_REFUSED', message);
  }
}

/** A release id, service or lane that Temporal does not know. */
export class NotFound extends TollgateError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** A message whose sender is missing or malformed. */
export class InvalidActor extends TollgateError {
  constructor(message: string) {
    super('INVALID_ACTOR', message);
  }
}

/** The error a client raises for an update the release refused, by the failure type the release sent. */
export function refusalFor(type: string | undefined, message: string): TollgateError {
  switch (type) {
    case FailureType.RollbackRefused:
      return new RollbackRefused(message);
    case FailureType.InvalidActor:
      return new InvalidActor(message);
    default:
      return new ApprovalRefused(message);
  }
}
