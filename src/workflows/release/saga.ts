import { deepestMessage } from '../../domain/failures';

/**
 * The compensation stack. Every forward step that changes the world pushes how to undo itself
 * *before* it runs, so a step that fails halfway is still undone. On rollback the stack runs in
 * reverse; the caller runs it inside a non-cancellable scope so an aborted release still cleans up.
 */
export interface Compensation {
  /** Shown in the event log and the Temporal UI: "restore weights to stable". */
  name: string;
  /**
   * Compensations with the same key in a row collapse into the oldest one: after setWeight 1, 10
   * and 50, restoring the weights from before the first shift undoes all three in one step.
   */
  mergeKey?: string;
  run: () => Promise<void>;
}

export class CompensationFailed extends Error {
  constructor(
    readonly failed: string,
    readonly notRun: string[],
    readonly failure: unknown,
  ) {
    super(
      `compensation "${failed}" failed: ${deepestMessage(failure)}` +
        (notRun.length ? `; not run: ${notRun.join(', ')}` : ''),
    );
    this.name = 'CompensationFailed';
  }
}

export class Saga {
  private readonly stack: Compensation[] = [];

  push(compensation: Compensation): void {
    const top = this.stack[this.stack.length - 1];
    if (compensation.mergeKey && top?.mergeKey === compensation.mergeKey) return;
    this.stack.push(compensation);
  }

  /** Names of the compensations a rollback would run now, in the order it would run them. */
  get pending(): string[] {
    return this.stack.map((compensation) => compensation.name).reverse();
  }

  /**
   * Runs every compensation, newest first. Stops at the first that fails for good: undoing the
   * next one (say, stopping the new version) could hurt when the one before it (moving traffic
   * away from it) did not happen.
   */
  async compensate(onDone: (compensation: Compensation) => void): Promise<void> {
    while (this.stack.length > 0) {
      const compensation = this.stack[this.stack.length - 1];
      try {
        await compensation.run();
      } catch (err) {
        throw new CompensationFailed(compensation.name, this.pending.slice(1), err);
      }
      this.stack.pop();
      onDone(compensation);
    }
  }
}
