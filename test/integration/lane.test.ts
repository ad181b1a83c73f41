import type { Actor } from '../../src/domain/spec';
import { startTollgate, type TollgateUnderTest } from '../support/tollgate-under-test';
import { execSpec, Journal } from '../support/exec-spec';
import type { TestWorker } from '../support/worker';
import { eventually } from '../support/eventually';
import { required } from '../../src/domain/required';
import { laneIdFor } from '../../src/domain/release';
import { freezeSignal } from '../../src/workflows/api';

const alice: Actor = { id: 'alice', via: 'cli' };
const bob: Actor = { id: 'bob', via: 'cli' };

let tollgate: TestWorker;
let under: TollgateUnderTest;
let journal: Journal;

beforeAll(async () => {
  under = await startTollgate('lane');
  tollgate = under.tollgate;
});

afterAll(async () => {
  await under?.stop();
});

beforeEach(() => {
  journal = new Journal();
});
afterEach(() => journal.remove());

const statusOf = (releaseId: string) => tollgate.releases.status(releaseId);
const until = <T>(what: string, check: () => Promise<T | undefined>) => eventually(what, check);

describe('a lane', () => {
  it('keeps a second release of the same service Queued until the first ends, then runs it against the new stable version', async () => {
    const first = execSpec(journal, {
      service: 'orders',
      version: '1.1.0',
      steps: [{ setWeight: 50 }, { approval: { from: ['bob'] } }],
    });
    const second = execSpec(journal, { service: 'orders', version: '1.2.0', steps: [{ setWeight: 100 }] });

    const a = await tollgate.releases.start(first, alice);
    await until('the first release to await approval', async () =>
      (await statusOf(a.releaseId)).pendingApproval ? true : undefined,
    );
    const b = await tollgate.releases.start(second, alice);

    const queued = await until('the second release to say what it waits for', async () => {
      const status = await statusOf(b.releaseId);
      return status.hold ? status : undefined;
    });
    expect(queued.stage).toBe('Queued');
    expect(queued.hold?.reason).toBe(`waiting for ${a.releaseId} to finish`);
    expect(journal.lines()).toEqual(['deploy 1.1.0', 'setWeight 50']);

    await tollgate.releases.approve(a.releaseId, { approver: bob });
    expect(await tollgate.releases.result(a.releaseId)).toMatchObject({ outcome: 'Succeeded' });
    expect(await tollgate.releases.result(b.releaseId)).toMatchObject({ outcome: 'Succeeded', stableVersion: '1.2.0' });

    // The second release began only after the first ended, and retired the version the first made stable.
    expect(journal.lines()).toEqual([
      'deploy 1.1.0',
      'setWeight 50',
      'setWeight 100',
      'deploy 1.2.0',
      'setWeight 100',
      'undeploy 1.1.0',
    ]);
    expect((await statusOf(b.releaseId)).stableVersion).toBe('1.1.0');
    const lane = await tollgate.releases.lane('orders', 'staging');
    expect(lane).toMatchObject({ stableVersion: '1.2.0', queue: [] });
    expect(lane.current).toBeUndefined();
  });

  it('holds a new release as Queued with the freeze reason, and starts it when the freeze lifts', async () => {
    await tollgate.releases.freeze('carts', 'staging', {
      reason: 'black friday',
      by: 'sre',
      at: new Date().toISOString(),
    });
    // The freeze is answered once the lane took it (after the worker checked who sent it): frozen now.
    expect((await tollgate.releases.lane('carts', 'staging')).policy.freeze).toMatchObject({ by: 'sre' });
    const spec = execSpec(journal, { service: 'carts', steps: [{ setWeight: 100 }] });
    const { releaseId } = await tollgate.releases.start(spec, alice);

    const held = await until('the release to hold on the freeze', async () => {
      const status = await statusOf(releaseId);
      return status.hold?.reason.includes('black friday') ? status : undefined;
    });
    expect(held.stage).toBe('Queued');
    expect(held.hold?.reason).toBe('lane frozen by sre: black friday');
    expect(journal.lines()).toEqual([]);

    await tollgate.releases.unfreeze('carts', 'staging', 'sre', 'sale over');
    expect(await tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 100']);
  });

  it('still takes a freeze sent as a signal, as clients before lane updates sent it', async () => {
    await tollgate.client.workflow.signalWithStart('laneWorkflow', {
      workflowId: laneIdFor('coupons', 'staging'),
      taskQueue: tollgate.taskQueue,
      args: [{ service: 'coupons', environment: 'staging' }],
      signal: freezeSignal,
      signalArgs: [{ reason: 'old client', by: 'sre', at: new Date().toISOString() }],
    });
    await until('the coupons lane frozen', async () =>
      (await tollgate.releases.lane('coupons', 'staging')).policy.freeze?.reason === 'old client' ? true : undefined,
    );
    await tollgate.releases.unfreeze('coupons', 'staging', 'sre', 'done');
    expect((await tollgate.releases.lane('coupons', 'staging')).policy.freeze).toBeUndefined();
  });

  it('holds a running release at its next step boundary, and wakes on a durable timer when a timed freeze ends', async () => {
    const spec = execSpec(journal, {
      service: 'wishlist',
      steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 100 }],
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await until('the pause', async () => ((await statusOf(releaseId)).hold ? true : undefined));

    // The freeze must still be on when the release reaches its next step: the release knows of it
    // before it is promoted past the pause, and it lasts far longer than the one workflow task
    // between the promotion and that step.
    const freezeEnds = new Date(Date.now() + 20_000).toISOString();
    await tollgate.releases.freeze('wishlist', 'staging', {
      reason: 'incident 42',
      by: 'sre',
      at: new Date().toISOString(),
      until: freezeEnds,
    });
    await until('the release to know of the freeze', async () =>
      (await statusOf(releaseId)).lanePolicy?.freeze ? true : undefined,
    );
    await tollgate.releases.promote(releaseId, { actor: alice });

    const held = await until('the release to hold at the next step', async () => {
      const status = await statusOf(releaseId);
      return status.hold?.reason.includes('incident 42') ? status : undefined;
    });
    expect(held).toMatchObject({ stage: 'Shifting', weight: 10 });
    expect(held.hold?.reopensAt).toBe(freezeEnds);

    // Nobody unfreezes: the release's own timer ends the hold.
    const result = await tollgate.releases.result(releaseId);
    expect(result.outcome).toBe('Succeeded');
    const resumedAt = (await statusOf(releaseId)).events.find(
      (event) => event.message === 'setWeight 100' || event.message === 'traffic at 100%',
    );
    expect(Date.parse(required(resumedAt, 'resume event').at)).toBeGreaterThanOrEqual(Date.parse(freezeEnds));
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 10', 'setWeight 100']);
  });

  it('never holds a rollback: an aborted release rolls back while its lane is frozen', async () => {
    const spec = execSpec(journal, { service: 'ratings', steps: [{ setWeight: 30 }, { pause: {} }] });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await until('the indefinite pause', async () => ((await statusOf(releaseId)).hold ? true : undefined));
    await tollgate.releases.freeze('ratings', 'staging', {
      reason: 'change freeze',
      by: 'sre',
      at: new Date().toISOString(),
    });
    await tollgate.releases.abort(releaseId, { actor: bob, reason: 'bad config' });

    expect(await tollgate.releases.result(releaseId)).toMatchObject({
      outcome: 'RolledBack',
      reason: 'aborted by bob: bad config',
    });
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 30', 'setWeight 0', 'undeploy 2.0.0']);
  });

  it('holds a release outside its deploy windows, saying when the next opens, and lets it go when the windows change', async () => {
    // A window all of yesterday (UTC): closed now, and it next opens in six days.
    const yesterday = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 6) % 7] as 'mon';
    await tollgate.releases.setWindows('feedback', 'staging', 'sre', [
      { days: [yesterday], start: '00:00', end: '23:59', timezone: 'UTC' },
    ]);

    const spec = execSpec(journal, { service: 'feedback', steps: [{ setWeight: 100 }] });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    const held = await until('the release to hold outside the window', async () => {
      const status = await statusOf(releaseId);
      return status.hold?.reason.startsWith('outside deploy windows') ? status : undefined;
    });
    expect(held.stage).toBe('Queued');
    expect(Date.parse(required(held.hold?.reopensAt, 'hold reopening'))).toBeGreaterThan(Date.now() + 5 * 86_400_000);
    expect(Date.parse(required(held.hold?.reopensAt, 'hold reopening'))).toBeLessThanOrEqual(
      Date.now() + 7 * 86_400_000,
    );

    await tollgate.releases.setWindows('feedback', 'staging', 'sre', []);
    expect(await tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
  });
});
