import { CancellationScope } from '@temporalio/workflow';
import { planRelease, type ReleasePlan } from '../../domain/plan';
import { laneIdFor, type ReleaseInput } from '../../domain/release';
import type { ReleaseSpec } from '../../domain/spec';
import { bookkeeping, slack, stepActivities, type StepActivities } from './activity-proxies';
import { ErrorBudgetGate } from './error-budget-gate';
import { Saga } from './saga';
import { ReleaseState } from './state';

/**
 * What every stage and step of a release works with: its input and plan, its state (one owner),
 * its compensation stack, and the activities its spec configures.
 */
export interface ReleaseContext {
  readonly input: ReleaseInput;
  readonly spec: ReleaseSpec;
  readonly plan: ReleasePlan;
  readonly laneId: string;
  readonly release: ReleaseState;
  readonly saga: Saga;
  readonly activities: StepActivities;
  readonly errorBudget: ErrorBudgetGate;
  /** The forward path runs in here; cancelling it (abort, rollback) stops the running step. */
  readonly forwardScope: CancellationScope;
}

export function createReleaseContext(input: ReleaseInput): ReleaseContext {
  const { spec } = input;
  const plan = planRelease(spec);
  const release = new ReleaseState(
    input,
    plan,
    (batch) => bookkeeping.recordAudit.executeWithOptions({ summary: 'audit log' }, [batch]),
    spec.notify?.slack
      ? (request) =>
          slack.publishReleaseMessage.executeWithOptions({ summary: `Slack message in ${request.channel}` }, [request])
      : undefined,
  );
  const errorBudget = new ErrorBudgetGate(spec.errorBudget, {
    facts: () => release.facts,
    setHold: (hold) => release.setHold(hold),
    promotions: () => release.asked.promotions,
    changes: () => release.lane.changes,
  });
  return {
    input,
    spec,
    plan,
    laneId: laneIdFor(spec.service, spec.environment),
    release,
    saga: new Saga(),
    activities: stepActivities(spec),
    errorBudget,
    forwardScope: new CancellationScope(),
  };
}
