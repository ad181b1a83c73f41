import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { log, setHandler } from '@temporalio/workflow';
import type { DecisionKind, Proven } from '../../domain/decision';
import { afterEarlierDecisions, withProvenSender } from '../decision-proof';
import type { DeployWindow } from '../../domain/deploy-window';
import type { Freeze } from '../../domain/lane-policy';
import {
  enqueueSignal,
  freezeLaneUpdate,
  freezeSignal,
  type LaneAnswer,
  laneStatusQuery,
  releaseFinishedSignal,
  setLaneWindowsUpdate,
  setWindowsSignal,
  unfreezeLaneUpdate,
  unfreezeSignal,
} from '../api';
import { refuseSender } from '../approval-handlers';
import type { Lane } from './lane';

/** What releases and people tell a lane: join, finished, freeze, unfreeze, windows; and its status. */
export function listenToReleasesAndPeople(lane: Lane): void {
  // A release that asks to join right after a freeze is held by it, even while the freeze's proof is checked.
  setHandler(enqueueSignal, (release) => afterEarlierDecisions(() => lane.enqueue(release)));
  setHandler(releaseFinishedSignal, (release) => lane.finished(release));
  const freeze = ({ proof, ...freeze }: Freeze & Proven) =>
    fromProvenSender(lane, 'freeze', freeze.by, proof, (by) =>
      lane.setPolicy({ ...lane.state.policy, freeze: { ...freeze, by } }, 'lane frozen', { by, reason: freeze.reason }),
    );
  const unfreeze = ({ by: claimed, reason, proof }: { by: string; reason: string } & Proven) =>
    fromProvenSender(lane, 'unfreeze', claimed, proof, (by) =>
      lane.setPolicy({ ...lane.state.policy, freeze: undefined }, 'lane unfrozen', { by, reason }),
    );
  const setWindows = ({ by: claimed, windows, proof }: { by: string; windows: DeployWindow[] } & Proven) =>
    fromProvenSender(lane, 'setWindows', claimed, proof, (by) =>
      lane.setPolicy({ ...lane.state.policy, windows }, 'deploy windows set', { by, windows: windows.length }),
    );
  answerEach(freezeSignal, freezeLaneUpdate, freeze, 'frozen');
  answerEach(unfreezeSignal, unfreezeLaneUpdate, unfreeze, 'unfrozen');
  answerEach(setWindowsSignal, setLaneWindowsUpdate, setWindows, 'deploy windows set');
  setHandler(laneStatusQuery, () => lane.status());
}

/**
 * One decision, by signal (from clients of earlier versions: a refusal is only logged) and by
 * update (the sender hears who it was taken from, or the reason it was refused).
 */
function answerEach<M>(
  signal: SignalDefinition<[M]>,
  update: UpdateDefinition<LaneAnswer, [M]>,
  decide: (message: M) => Promise<string>,
  done: string,
): void {
  setHandler(signal, async (message) => {
    await decide(message).catch(() => undefined);
  });
  setHandler(update, async (message) => ({ message: `${done} by ${await decide(message)}` }));
}

/**
 * A lane acts on a freeze, an unfreeze or new windows only once the worker has checked who sent
 * it; one whose proof does not hold changes nothing, is logged with the reason, and rejects (an
 * update's sender gets the reason). Resolves with who the sender proved to be.
 */
async function fromProvenSender(
  lane: Lane,
  kind: DecisionKind,
  claimed: unknown,
  proof: string | undefined,
  act: (by: string) => void,
): Promise<string> {
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
    (actor) => {
      act(actor.id);
      return actor.id;
    },
    (reason) => {
      log.warn(`${kind} by ${id} refused`, { laneId: lane.laneId, reason });
      return refuseSender(reason);
    },
  );
}
