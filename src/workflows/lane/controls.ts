import { setHandler } from '@temporalio/workflow';
import {
  enqueueSignal,
  freezeSignal,
  laneStatusQuery,
  releaseFinishedSignal,
  setWindowsSignal,
  unfreezeSignal,
} from '../api';
import type { Lane } from './lane';

/** What releases and people tell a lane: join, finished, freeze, unfreeze, windows; and its status. */
export function listenToReleasesAndPeople(lane: Lane): void {
  setHandler(enqueueSignal, (release) => lane.enqueue(release));
  setHandler(releaseFinishedSignal, (release) => lane.finished(release));
  setHandler(freezeSignal, (freeze) =>
    lane.setPolicy({ ...lane.state.policy, freeze }, 'lane frozen', { by: freeze.by, reason: freeze.reason }),
  );
  setHandler(unfreezeSignal, ({ by, reason }) =>
    lane.setPolicy({ ...lane.state.policy, freeze: undefined }, 'lane unfrozen', { by, reason }),
  );
  setHandler(setWindowsSignal, ({ by, windows }) =>
    lane.setPolicy({ ...lane.state.policy, windows }, 'deploy windows set', { by, windows: windows.length }),
  );
  setHandler(laneStatusQuery, () => lane.status());
}
