import { deepestMessage } from '../../domain/failures';

/**
 * Why the forward path of a release stops. Thrown inside the workflow and caught by it: they
 * decide between rolling back (undo everything) and stopping where it stands.
 */

/** Undo the release: a rejection, an abort, a failed analysis, an approval timeout. */
export class RollbackRequested extends Error {
  constructor(
    readonly reason: string,
    readonly actor: string,
  ) {
    super(reason);
    this.name = 'RollbackRequested';
  }
}

/** Stop where it stands, without compensations, for a person to decide (approvals.onTimeout: fail). */
export class StopRelease extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'StopRelease';
  }
}

/** The failure of a step, in the words of its deepest cause (the command's own error). */
export function stepFailure(err: unknown): string {
  return `step failed: ${deepestMessage(err)}`;
}
