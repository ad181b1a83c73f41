import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { messageOf } from '../domain/failures';
import { laneGrantedSignal, laneUpdateSignal } from './api';
import { listenToReleasesAndPeople } from './lane/controls';
import { Lane, type LaneInput } from './lane/lane';

export type { LaneInput, LaneState } from './lane/lane';

/** How often the lane checks that its current release still runs (it may have been terminated by hand). */
export const WATCHDOG_INTERVAL = '10m';

const { isWorkflowRunning } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 5 },
});

/**
 * One lane per service and environment: releases of it run one at a time, in arrival order.
 * The lane knows the stable version (what a rollback returns to) and holds the freeze and the
 * deploy windows; it tells its releases when either changes, so they wake on the change rather
 * than polling.
 */
export async function laneWorkflow(input: LaneInput): Promise<void> {
  const lane = new Lane(input);
  listenToReleasesAndPeople(lane);
  for (;;) {
    lane.admitNext();
    if (lane.grantDue && lane.state.current && !(await grant(lane))) continue;
    if (lane.toNotify.size > 0) {
      await notifyReleases(lane);
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof laneWorkflow>({
        service: input.service,
        environment: input.environment,
        state: lane.state,
      });
    }
    const woke = await condition(() => lane.hasWork(), WATCHDOG_INTERVAL);
    if (!woke) await freeSlotOfVanishedRelease(lane);
  }
}

/** Tells the current release it holds the lane; false when it is gone (the slot is then free). */
async function grant(lane: Lane): Promise<boolean> {
  const { current, stableVersion, policy } = lane.state;
  if (!current) return true;
  lane.grantDue = false;
  lane.toNotify.delete(current.releaseId);
  try {
    await getExternalWorkflowHandle(current.releaseId).signal(laneGrantedSignal, { stableVersion, policy });
    return true;
  } catch (err) {
    // The release ended without telling us (terminated by hand): give the slot to the next one.
    log.warn('granted release is gone', { laneId: lane.laneId, releaseId: current.releaseId, error: messageOf(err) });
    lane.gone(current.releaseId);
    return false;
  }
}

/** Tells waiting releases the lane's policy and whom they wait for; one that cannot be reached leaves the queue. */
async function notifyReleases(lane: Lane): Promise<void> {
  const batch = [...lane.toNotify];
  lane.toNotify = new Set();
  for (const releaseId of batch) {
    if (!lane.knows(releaseId)) continue;
    try {
      await getExternalWorkflowHandle(releaseId).signal(laneUpdateSignal, {
        policy: lane.state.policy,
        waitingFor: lane.waitingFor(releaseId),
      });
    } catch {
      lane.forget(releaseId);
    }
  }
}

/** The watchdog: a current release that no longer runs (terminated by hand) frees the lane. */
async function freeSlotOfVanishedRelease(lane: Lane): Promise<void> {
  const { current } = lane.state;
  if (!current || (await isWorkflowRunning(current.releaseId))) return;
  log.warn('current release is no longer running; freeing the lane', {
    laneId: lane.laneId,
    releaseId: current.releaseId,
  });
  lane.remember({ ...current, outcome: 'Failed' });
  lane.gone(current.releaseId);
}
