import {
  ActivityCancellationType,
  proxyActivities,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { toMillis } from '../../domain/duration';
import type { ReleaseSpec } from '../../domain/spec';

/**
 * Lane bookkeeping and audit writes: quick, retried until they succeed. A short timeout, because
 * an attempt lost with a dead worker is only retried once it times out.
 */
export const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/** Reading the migrations folder and knex's table changes nothing: a few tries, then the release stops. */
export const planning = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumAttempts: 5 },
});

/**
 * Quick checks and fencing tokens in Tollgate's PostgreSQL, run by the worker within the workflow
 * task (local activities): a rollback's fence is in place before the task that asked for it ends.
 * Retried until they succeed: a rollback must not go on without its fence.
 */
export const local = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/** The release's Slack message: a few quick attempts, then the release goes on without it. */
export const slack = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumAttempts: 5 },
});

/** The activities of a release's steps, with the timeouts and retries its spec asks for. */
export interface StepActivities {
  /**
   * Steps that change the world: tried `attempts` times, then the release rolls back. On abort the
   * release waits until the step has really stopped, so its compensation never races it.
   */
  forward: ActivityInterfaceFor<Activities>;
  /** Compensations: retried until they succeed, for as long as the spec allows a rollback to take. */
  undo: ActivityInterfaceFor<Activities>;
  /** Analyses change nothing, so a failing one need not wait for its siblings to acknowledge cancellation. */
  measure: ActivityInterfaceFor<Activities>;
}

export function stepActivities(spec: ReleaseSpec): StepActivities {
  const { execution } = spec;
  const retry: RetryPolicy = {
    maximumAttempts: execution.attempts,
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
  };
  return {
    forward: proxyActivities<Activities>({
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      startToCloseTimeout: toMillis(execution.stepTimeout),
      heartbeatTimeout: toMillis(execution.heartbeatTimeout),
      retry,
    }),
    undo: proxyActivities<Activities>({
      startToCloseTimeout: toMillis(execution.stepTimeout),
      heartbeatTimeout: toMillis(execution.heartbeatTimeout),
      scheduleToCloseTimeout: toMillis(execution.rollbackTimeout),
      retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
    }),
    measure: proxyActivities<Activities>({
      cancellationType: ActivityCancellationType.TRY_CANCEL,
      startToCloseTimeout: toMillis(execution.stepTimeout),
      heartbeatTimeout: toMillis(execution.heartbeatTimeout),
      retry,
    }),
  };
}
