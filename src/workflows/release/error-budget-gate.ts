import { condition, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { toMillis } from '../../domain/duration';
import type { ErrorBudgetReading } from '../../domain/error-budget';
import type { Gate } from '../../domain/lane-policy';
import type { ReleaseFacts } from '../../domain/release-facts';
import type { ErrorBudget } from '../../domain/spec';

/** One short read of Prometheus; an unreadable budget is an answer (closed, not measured), not a failure. */
const { checkErrorBudget } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

export interface BudgetGateHooks {
  facts: () => ReleaseFacts;
  setHold: (hold: Extract<Gate, { open: false }> | undefined) => void;
  /** Counts promotions: a person who promotes during a budget hold waives the gate for the rest of the release. */
  promotions: () => number;
  /** Wakes the hold early when the lane or a person says something. */
  changes: () => number;
}

/**
 * The error budget gate: Planning asks it once (`atPlanning`) and refuses a release while the service
 * burns its budget too fast; every step boundary asks it again (`holdWhileBurning`) and holds,
 * with the reason in the status, until the burn rate falls or a person promotes past it.
 * Rollbacks never ask.
 */
export class ErrorBudgetGate {
  private waived = false;
  private armed = false;

  constructor(
    private readonly config: ErrorBudget | undefined,
    private readonly hooks: BudgetGateHooks,
  ) {}

  /** Planning's reading; step boundaries before Planning (the lane's admission) do not hold on the budget. */
  async atPlanning(): Promise<ErrorBudgetReading | undefined> {
    this.armed = true;
    return this.read();
  }

  private async read(): Promise<ErrorBudgetReading | undefined> {
    if (!this.config) return undefined;
    return checkErrorBudget.executeWithOptions({ summary: 'check error budget' }, [
      { facts: this.hooks.facts(), config: this.config },
    ]);
  }

  /** Returns true when it held (so the caller looks at its other gates again). */
  async holdWhileBurning(): Promise<boolean> {
    if (!this.config || this.waived || !this.armed) return false;
    const reading = await this.read();
    if (!reading || reading.open) return false;
    this.hooks.setHold({ open: false, reason: `${reading.reason}; holding until it recovers or someone promotes` });
    const promotions = this.hooks.promotions();
    const changes = this.hooks.changes();
    await condition(
      () => this.hooks.promotions() !== promotions || this.hooks.changes() !== changes,
      toMillis(this.config.checkEvery),
      { summary: `hold: ${reading.reason}` },
    );
    if (this.hooks.promotions() !== promotions) this.waived = true;
    return true;
  }
}
