import fs from 'node:fs';
import path from 'node:path';
import type { DecisionCheck, DecisionVerdict } from '../../src/domain/decision';
import { laneIdFor } from '../../src/domain/release';
import type { Actor } from '../../src/domain/spec';
import { DecisionVerifier } from '../../src/identity/decision-verifier';
import {
  abortSignal,
  enqueueSignal,
  freezeLaneUpdate,
  laneGrantedSignal,
  unfreezeLaneUpdate,
} from '../../src/workflows/api';
import { required } from '../../src/domain/required';
import { defaultPayloadConverter } from '@temporalio/common';
import { eventually } from '../support/eventually';
import { execSpec, Journal } from '../support/exec-spec';
import { startTollgate, type TollgateUnderTest } from '../support/tollgate-under-test';

/**
 * The worker checks who sent each decision before the workflow acts on it, and checks take as long
 * as they take (an issuer's keys, a slow network). Decisions must still take effect in the order
 * people sent them. A verifier that holds every freeze and every abort until the test lets them go
 * makes their check the slow one, every time.
 */
class HeldVerifier extends DecisionVerifier {
  private release!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  readonly checked: DecisionCheck['kind'][] = [];

  constructor() {
    super({ mode: 'none' });
  }

  override async verify(check: DecisionCheck): Promise<DecisionVerdict> {
    if (check.kind === 'freeze' || check.kind === 'abort') await this.gate;
    const verdict = await super.verify(check);
    this.checked.push(check.kind);
    return verdict;
  }

  letHeldThrough(): void {
    this.release();
  }
}

const alice: Actor = { id: 'alice', via: 'cli' };
let verifier: HeldVerifier;
let under: TollgateUnderTest;
let journal: Journal;

beforeEach(async () => {
  verifier = new HeldVerifier();
  under = await startTollgate('decision-order', { verifier });
  journal = new Journal();
});

afterEach(async () => {
  verifier.letHeldThrough();
  await under?.stop();
  journal?.remove();
});

/**
 * Waits until the lane has received a signal and finished a workflow task after it (it acted on
 * the signal, or chose to wait), so what the test sends or allows next comes after that.
 */
async function laneHandled(service: string, name: string): Promise<void> {
  const lane = under.tollgate.client.workflow.getHandle(laneIdFor(service, 'staging'));
  await eventually(`the ${service} lane to handle ${name}`, async () => {
    const events = (await lane.fetchHistory()).events ?? [];
    // An update is in the history once a workflow task accepted it (its handler began).
    if (
      events.some(
        (event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === name,
      )
    )
      return true;
    const received = events.findIndex((event) => event.workflowExecutionSignaledEventAttributes?.signalName === name);
    return received >= 0 && events.slice(received).some((event) => event.workflowTaskCompletedEventAttributes)
      ? true
      : undefined;
  });
}

/** What the lane told releases when it gave them the slot (the Temporal UI shows the same). */
async function grantsSent(service: string): Promise<unknown[]> {
  const lane = under.tollgate.client.workflow.getHandle(laneIdFor(service, 'staging'));
  const events = (await lane.fetchHistory()).events ?? [];
  return events
    .map((event) => event.signalExternalWorkflowExecutionInitiatedEventAttributes)
    .filter((signal) => signal?.signalName === laneGrantedSignal.name)
    .map((signal) => defaultPayloadConverter.fromPayload(required(signal?.input?.payloads?.[0], 'the grant')));
}

describe('decisions take effect in the order they were sent', () => {
  it('holds a release that joins the lane right after a freeze, while the freeze is still being checked', async () => {
    const { releases } = under.tollgate;
    // The freeze is answered once its sender is checked, which the test holds: sent, not awaited.
    const freezing = releases.freeze('larder', 'staging', { reason: 'audit', by: 'sre', at: new Date().toISOString() });
    await laneHandled('larder', freezeLaneUpdate.name);
    const { releaseId } = await releases.start(
      execSpec(journal, { service: 'larder', steps: [{ setWeight: 100 }] }),
      alice,
    );
    await laneHandled('larder', enqueueSignal.name);
    verifier.letHeldThrough();
    await freezing;

    const held = await eventually('the release to hold on the freeze', async () => {
      const status = await releases.status(releaseId);
      return status.hold ? status : undefined;
    });
    expect(held).toMatchObject({ stage: 'Queued', hold: { reason: 'lane frozen by sre: audit' } });
    // The lane gave it the slot only with the freeze: it never saw its lane open.
    const grants = await grantsSent('larder');
    expect(grants[0]).toMatchObject({ policy: { freeze: { reason: 'audit' } } });
    expect(journal.lines()).toEqual([]);

    await releases.unfreeze('larder', 'staging', 'sre', 'audit done');
    expect(await releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 100']);
  });

  it('leaves the lane unfrozen after a freeze and an unfreeze, though the unfreeze was checked first', async () => {
    const { releases } = under.tollgate;
    const freezing = releases.freeze('pantry', 'staging', { reason: 'audit', by: 'sre', at: new Date().toISOString() });
    await laneHandled('pantry', freezeLaneUpdate.name);
    const unfreezing = releases.unfreeze('pantry', 'staging', 'sre', 'changed my mind');
    await laneHandled('pantry', unfreezeLaneUpdate.name);
    await eventually('the unfreeze to be checked', () => (verifier.checked.includes('unfreeze') ? true : undefined));
    verifier.letHeldThrough();
    // Each answered in the order they arrived: the freeze, then the unfreeze.
    await Promise.all([freezing, unfreezing]);

    const { releaseId } = await releases.start(
      execSpec(journal, { service: 'pantry', steps: [{ setWeight: 100 }] }),
      alice,
    );
    expect(await releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
    expect((await releases.lane('pantry', 'staging')).policy.freeze).toBeUndefined();
  });

  it('stops at the next step boundary for an abort sent during a step, while the abort is still being checked', async () => {
    const { releases, client } = under.tollgate;
    const gate = path.join(journal.dir, 'open-10');
    const spec = execSpec(journal, {
      service: 'scullery',
      steps: [{ setWeight: 10 }, { setWeight: 50 }, { setWeight: 100 }],
      // The 10% write waits for the test: the abort arrives while it runs.
      setWeight: [
        `if [ "$TOLLGATE_WEIGHT" = 10 ]; then while [ ! -e "${gate}" ]; do sleep 0.05; done; fi`,
        journal.append('setWeight $TOLLGATE_WEIGHT'),
      ].join('; '),
    });
    const { releaseId } = await releases.start(spec, alice);
    await eventually('the 10% step to run', async () =>
      (await releases.status(releaseId)).step?.index === 0 ? true : undefined,
    );
    await releases.abort(releaseId, { actor: { id: 'sre', via: 'cli' }, reason: 'pager' });
    const handle = client.workflow.getHandle(releaseId);
    await eventually('the release to receive the abort', async () =>
      ((await handle.fetchHistory()).events ?? []).some(
        (event) => event.workflowExecutionSignaledEventAttributes?.signalName === abortSignal.name,
      )
        ? true
        : undefined,
    );
    fs.writeFileSync(gate, '');
    // The 10% step ends and the release takes its next workflow task, the abort's check still held.
    await eventually('a workflow task after the 10% step', async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = events.find(
        (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'setWeight',
      )?.eventId;
      const done = events.findIndex(
        (event) =>
          scheduled !== undefined &&
          String(event.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled),
      );
      return done >= 0 && events.slice(done).some((event) => event.workflowTaskCompletedEventAttributes)
        ? true
        : undefined;
    });
    verifier.letHeldThrough();

    expect(await releases.result(releaseId)).toMatchObject({ outcome: 'RolledBack', reason: 'aborted by sre: pager' });
    expect(journal.lines().filter((line) => line.startsWith('setWeight'))).toEqual(['setWeight 10', 'setWeight 0']);
  });
});
