import { log, setHandler } from '@temporalio/workflow';
import type { DecisionKind } from '../../domain/decision';
import { afterEarlierDecisions, withProvenSender } from '../decision-proof';
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
  // A release that asks to join right after a freeze is held by it, even while the freeze's proof is checked.
  setHandler(enqueueSignal, (release) => afterEarlierDecisions(() => lane.enqueue(release)));
  setHandler(releaseFinishedSignal, (release) => lane.finished(release));
  setHandler(freezeSignal, ({ proof, ...freeze }) =>
    fromProvenSender(lane, 'freeze', freeze.by, proof, (by) =>
      lane.setPolicy({ ...lane.state.policy, freeze: { ...freeze, by } }, 'lane frozen', { by, reason: freeze.reason }),
    ),
  );
  setHandler(unfreezeSignal, ({ by: claimed, reason, proof }) =>
    fromProvenSender(lane, 'unfreeze', claimed, proof, (by) =>
      lane.setPolicy({ ...lane.state.policy, freeze: undefined }, 'lane unfrozen', { by, reason }),
    ),
  );
  setHandler(setWindowsSignal, ({ by: claimed, windows, proof }) =>
    fromProvenSender(lane, 'setWindows', claimed, proof, (by) =>
      lane.setPolicy({ ...lane.state.policy, windows }, 'deploy windows set', { by, windows: windows.length }),
    ),
  );
  setHandler(laneStatusQuery, () => lane.status());
}

/**
 * A lane acts on a freeze, an unfreeze or new windows only once the worker has checked who sent
 * it; one whose proof does not hold changes nothing and is logged with the reason.
 */
function fromProvenSender(
  lane: Lane,
  kind: DecisionKind,
  claimed: unknown,
  proof: string | undefined,
  act: (by: string) => void,
): void | Promise<void> {
  const id = typeof claimed === 'string' && claimed.length > 0 && claimed.length <= 128 ? claimed : 'unknown';
  return withProvenSender(
    {
      kind,
      target: lane.laneId,
      environment: lane.ref.environment,
      production: lane.state.production === true,
      claimed: { id, via: 'cli' },
      proof,
    },
    (actor) => act(actor.id),
    (reason) => log.warn(`${kind} by ${id} refused`, { laneId: lane.laneId, reason }),
  );
}
