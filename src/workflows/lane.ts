import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { laneGate, type LanePolicy } from '../domain/lane-policy';
import { laneIdFor, type LaneStatus } from '../domain/release';
import type { EndStage } from '../domain/stages';
import {
  enqueueSignal,
  freezeSignal,
  laneGrantedSignal,
  laneStatusQuery,
  laneUpdateSignal,
  releaseFinishedSignal,
  setWindowsSignal,
  unfreezeSignal,
  type LaneRef,
} from './api';

/** How often the lane checks that its current release still runs (it may have been terminated by hand). */
export const WATCHDOG_INTERVAL = '10m';
/** Releases remembered for `tollgate lane` and the rollback target. */
const RECENT_LIMIT = 20;

const { isWorkflowRunning } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 5 },
});

interface QueuedRelease {
  releaseId: string;
  version: string;
}

/** The lane's memory, carried across continue-as-new. */
export interface LaneState {
  stableVersion?: string;
  current?: QueuedRelease;
  queue: QueuedRelease[];
  policy: LanePolicy;
  recent: { releaseId: string; version: string; outcome: EndStage; at: string }[];
}

export interface LaneInput extends LaneRef {
  state?: LaneState;
}

/**
 * One lane per service and environment: releases of it run one at a time, in arrival order.
 * The lane knows the stable version (what a rollback returns to) and holds the freeze and the
 * deploy windows; it tells its releases when either changes, so they wake on the change rather
 * than polling.
 */
export async function laneWorkflow(input: LaneInput): Promise<void> {
  const state: LaneState = input.state ?? { queue: [], policy: { windows: [] }, recent: [] };
  const laneId = laneIdFor(input.service, input.environment);
  let grantDue = false;
  let toNotify = new Set<string>();

  const known = (releaseId: string) =>
    state.current?.releaseId === releaseId || state.queue.some((queued) => queued.releaseId === releaseId);
  const notifyEveryone = () => {
    for (const release of [state.current, ...state.queue]) if (release) toNotify.add(release.releaseId);
  };

  setHandler(enqueueSignal, (release) => {
    if (state.current?.releaseId === release.releaseId) {
      // The release asked again (its joinLane activity was retried): grant it again.
      grantDue = true;
      return;
    }
    if (!known(release.releaseId)) state.queue.push(release);
    toNotify.add(release.releaseId);
  });

  setHandler(releaseFinishedSignal, ({ releaseId, version, outcome }) => {
    if (state.current?.releaseId === releaseId) {
      if (outcome === 'Succeeded') state.stableVersion = version;
      state.current = undefined;
      notifyEveryone();
    } else {
      state.queue = state.queue.filter((queued) => queued.releaseId !== releaseId);
    }
    state.recent = [{ releaseId, version, outcome, at: new Date().toISOString() }, ...state.recent].slice(
      0,
      RECENT_LIMIT,
    );
  });

  setHandler(freezeSignal, (freeze) => {
    state.policy = { ...state.policy, freeze };
    log.info('lane frozen', { laneId, by: freeze.by, reason: freeze.reason });
    notifyEveryone();
  });
  setHandler(unfreezeSignal, ({ by, reason }) => {
    state.policy = { ...state.policy, freeze: undefined };
    log.info('lane unfrozen', { laneId, by, reason });
    notifyEveryone();
  });
  setHandler(setWindowsSignal, ({ by, windows }) => {
    state.policy = { ...state.policy, windows };
    log.info('deploy windows set', { laneId, by, windows: windows.length });
    notifyEveryone();
  });

  setHandler(laneStatusQuery, (): LaneStatus => ({
    laneId,
    service: input.service,
    environment: input.environment,
    stableVersion: state.stableVersion,
    current: state.current?.releaseId,
    queue: state.queue.map((queued) => queued.releaseId),
    policy: state.policy,
    gate: laneGate(state.policy, new Date()),
    recent: state.recent,
  }));

  for (;;) {
    if (!state.current && state.queue.length > 0) {
      state.current = state.queue.shift();
      grantDue = true;
      notifyEveryone();
    }
    if (grantDue && state.current) {
      grantDue = false;
      const granted = state.current;
      toNotify.delete(granted.releaseId);
      try {
        await getExternalWorkflowHandle(granted.releaseId).signal(laneGrantedSignal, {
          stableVersion: state.stableVersion,
          policy: state.policy,
        });
      } catch (err) {
        // The release ended without telling us (terminated by hand): give the slot to the next one.
        log.warn('granted release is gone', { laneId, releaseId: granted.releaseId, error: (err as Error).message });
        if (state.current?.releaseId === granted.releaseId) state.current = undefined;
        continue;
      }
    }
    if (toNotify.size > 0) {
      const batch = [...toNotify];
      toNotify = new Set();
      for (const releaseId of batch) {
        if (!known(releaseId)) continue;
        const waitingFor = state.current?.releaseId === releaseId ? undefined : state.current?.releaseId;
        try {
          await getExternalWorkflowHandle(releaseId).signal(laneUpdateSignal, { policy: state.policy, waitingFor });
        } catch {
          state.queue = state.queue.filter((queued) => queued.releaseId !== releaseId);
        }
      }
      continue;
    }

    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof laneWorkflow>({ service: input.service, environment: input.environment, state });
    }

    const woke = await condition(
      () => grantDue || toNotify.size > 0 || (!state.current && state.queue.length > 0),
      WATCHDOG_INTERVAL,
    );
    if (!woke && state.current && !(await isWorkflowRunning(state.current.releaseId))) {
      log.warn('current release is no longer running; freeing the lane', {
        laneId,
        releaseId: state.current.releaseId,
      });
      state.recent = [
        {
          releaseId: state.current.releaseId,
          version: state.current.version,
          outcome: 'Failed' as const,
          at: new Date().toISOString(),
        },
        ...state.recent,
      ].slice(0, RECENT_LIMIT);
      state.current = undefined;
    }
  }
}
