import { proxyActivities } from '@temporalio/workflow';

/** The baseline's only activity: returns at once. */
export interface BareActivities {
  noop(): Promise<void>;
}

const { noop } = proxyActivities<BareActivities>({ startToCloseTimeout: '1m' });

/**
 * Bare Temporal: `steps` no-op activities one after another, nothing else. Returns when each step
 * started (workflow time, as Tollgate's step events are stamped), and when the last one ended.
 */
export async function bareWorkflow(steps: number): Promise<number[]> {
  const starts: number[] = [];
  for (let step = 0; step < steps; step++) {
    starts.push(Date.now());
    await noop();
  }
  starts.push(Date.now());
  return starts;
}
