import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { migrateToLatest, openDatabase } from '../../src/audit/database';
import { rollbackFence, forwardFence } from '../../src/domain/fence';
import { FailureType } from '../../src/domain/failures';
import type { Actor } from '../../src/domain/spec';
import { LaneFences } from '../../src/fencing/lane-fences';
import { isAlive } from '../../src/providers/exec/process-identity';
import { StaleWriteRefused } from '../../src/providers/fencing';
import { HaproxyTrafficRouter } from '../../src/providers/traffic/haproxy';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { execSpec, Journal } from '../support/exec-spec';
import { HeldSocketProxy } from '../support/held-socket-proxy';
import { expectReplays } from '../support/replays';
import { releaser, shareOf, TrafficStack } from '../support/traffic-stack';
import type { ReleaseClient } from '../../src/client/release-client';
import { connectTestClient, startTestWorker, type TestWorker } from '../support/worker';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

/**
 * A rollback that tells the truth (docs/architecture.md, "What survives what"): nothing a dead
 * worker started lands after the rollback, one decision per approval, the outcome names its cause.
 */
const alice: Actor = { id: 'alice', via: 'cli' };
const bob: Actor = { id: 'bob', via: 'cli' };
const carol: Actor = { id: 'carol', via: 'slack' };

let database: TestDatabase;
let stack: TrafficStack;
let journal: Journal;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  stack = await TrafficStack.start(['fence-shop', 'fence-direct']);
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop().catch(() => undefined)));
  await stack?.stop();
  await database?.drop();
});

beforeEach(() => {
  journal = new Journal();
});
afterEach(() => journal.remove());

async function workerProcess(taskQueue: string): Promise<WorkerProcess> {
  const started = await startWorkerProcess({ taskQueue, databaseUrl: database.url });
  workers.push(started);
  return started;
}

describe('a worker killed during a slow forward setWeight, then an abort', () => {
  it('exec: the command it left running is stopped, the release ends RolledBack with the abort as cause, and no forward write lands after the undo', async () => {
    const taskQueue = `fence-exec-${Date.now()}`;
    const { client, releases, close } = await connectTestClient(taskQueue);
    const gate = path.join(journal.dir, 'open-50');
    const pidFile = path.join(journal.dir, 'pid-50');
    const spec = execSpec(journal, {
      service: 'fence-exec',
      steps: [{ setWeight: 10 }, { setWeight: 50 }, { setWeight: 100 }],
      // The 50% write waits for the test: the worker dies while it runs.
      setWeight: [
        `if [ "$TOLLGATE_WEIGHT" = 50 ]; then echo $$ > "${pidFile}"; while [ ! -e "${gate}" ]; do sleep 0.05; done; fi`,
        journal.append('setWeight $TOLLGATE_WEIGHT fence $TOLLGATE_FENCE'),
      ].join('; '),
      execution: { heartbeatTimeout: '3s' },
    });
    const first = await workerProcess(taskQueue);
    const { releaseId } = await releases.start(spec, alice);
    const orphan = await eventually('the 50% command to run', () =>
      fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim()
        ? Number(fs.readFileSync(pidFile, 'utf8'))
        : undefined,
    );

    await first.kill();
    expect(isAlive(orphan)).toBe(true); // its own process group: the worker's death did not stop it
    await releases.abort(releaseId, { actor: bob, reason: 'latency alarm' }); // no worker runs now
    await workerProcess(taskQueue);
    // The new worker stopped what the dead one left on this host before taking any work.
    expect(isAlive(orphan)).toBe(false);

    const result = await releases.result(releaseId);
    expect(result).toMatchObject({ outcome: 'RolledBack', reason: 'aborted by bob: latency alarm' });
    const status = await releases.status(releaseId);
    expect(status.events.find((event) => event.stage === 'RollingBack')?.actor).toBe('bob');

    // Whatever still waited at the gate would write now: nothing does.
    fs.writeFileSync(gate, '');
    const lines = journal.lines();
    expect(lines.filter((line) => line.startsWith('setWeight')).map((line) => line.split(' ')[1])).toEqual(['10', '0']);
    expect(lines[lines.length - 1]).toBe('undeploy 2.0.0');
    // Every write carried the lane's fencing token; the undo's is the newest.
    const tokens = lines.filter((line) => line.startsWith('setWeight')).map((line) => Number(line.split(' ')[3]));
    expect(tokens[1]).toBeGreaterThan(tokens[0]);
    await expectReplays(client, releaseId);
    await close();
  });

  it('haproxy: the retry is fenced off, and the routing ends exactly where it was before the release', async () => {
    const taskQueue = `fence-haproxy-${Date.now()}`;
    const { client, releases, close } = await connectTestClient(taskQueue);
    const proxy = await HeldSocketProxy.start(stack.haproxy.runtimeApi);
    try {
      const first = await workerProcess(taskQueue);
      await stack.bootstrap(releases, 'fence-shop');
      const before = await stack.servers('fence-shop');
      const base = stack.spec({
        service: 'fence-shop',
        version: '2.0.0',
        steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { setWeight: 100 }],
      });
      const { traffic } = base;
      if (traffic?.provider !== 'haproxy') throw new Error('the traffic stack routes with haproxy');
      const spec = {
        ...base,
        traffic: { ...traffic, runtimeApi: proxy.path, timeout: '10m' },
        execution: { ...base.execution, heartbeatTimeout: '3s' },
      };
      const { releaseId } = await releases.start(spec, releaser);
      await eventually('the canary at 10%, paused', async () => {
        const status = await releases.status(releaseId);
        if (status.outcome) throw new Error(`ended ${status.outcome.stage}: ${status.outcome.reason}`);
        return status.weight === 10 && status.hold ? true : undefined;
      });
      // The Runtime API answers nothing from now on: the 50% step hangs in its first read.
      proxy.hold();
      await releases.promote(releaseId, { actor: releaser });
      await eventually('the 50% step waiting on HAProxy', () => (proxy.waitingRequests > 0 ? true : undefined));

      await first.kill();
      await releases.abort(releaseId, { actor: bob, reason: 'pager' });
      await workerProcess(taskQueue);
      proxy.open();

      const result = await releases.result(releaseId);
      expect(result).toMatchObject({ outcome: 'RolledBack', reason: 'aborted by bob: pager' });
      expect(await stack.servers('fence-shop')).toEqual(before);
      expect(shareOf(await stack.servers('fence-shop'), stack.ports('fence-shop', '2.0.0'))).toBe(0);
      // Whatever ran after the abort (a retry of the 50% step or, while the worker checked who
      // sent the abort, the next step) was refused before it touched HAProxy, and is on record.
      const refusals = await database.db('fence_refusals').where({ release_id: releaseId });
      await expectReplays(client, releaseId);
      for (const refusal of refusals)
        expect(refusal).toMatchObject({
          step_id: expect.stringMatching(/\/step-[23]$/) as unknown,
          writer: 'haproxy router',
        });
    } finally {
      await proxy.stop();
      await close();
    }
  });
});

describe('the lane fence', () => {
  it("refuses and records a stale attempt's HAProxy write: the newer write stands", async () => {
    const fences = new LaneFences(database.db);
    const router = new HaproxyTrafficRouter({
      provider: 'haproxy',
      runtimeApi: stack.haproxy.runtimeApi,
      backend: 'fence-direct',
      serverPrefix: '',
      timeout: '5s',
    });
    const laneId = 'lane:fence-direct:staging';
    const facts = {
      releaseId: 'fence-direct:staging:2.0.0',
      service: 'fence-direct',
      environment: 'staging',
      version: '2.0.0',
      initiator: 'ci',
      attempt: 1,
    };
    const context = (token: number, attempt: number) => {
      const fence = { laneId, token };
      const writer = { releaseId: facts.releaseId, stepId: `${facts.releaseId}/step-0`, attempt, writer: 'haproxy' };
      return {
        facts,
        stepId: writer.stepId,
        signal: new AbortController().signal,
        log: pino({ level: 'silent' }),
        fence,
        fenced: <T>(write: () => Promise<T>) => fences.write(fence, writer, write),
      };
    };
    const epoch = await fences.takeEpoch(laneId);
    const before = await stack.servers('fence-direct');
    // The rollback's write (newest token) goes through...
    await router.setWeight(context(rollbackFence(laneId, epoch).token, 1), {
      weight: 0,
      previousWeight: 0,
      mode: 'weights',
    });
    // ...the stale attempt of an earlier step does not, and says why.
    const stale = router.setWeight(context(forwardFence(laneId, epoch, 1).token, 2), {
      weight: 50,
      previousWeight: 0,
      mode: 'weights',
      canary: { version: '2.0.0', endpoints: [{ host: '127.0.0.1', port: 1 }] },
    });
    await expect(stale).rejects.toBeInstanceOf(StaleWriteRefused);
    await expect(stale).rejects.toMatchObject({ type: FailureType.StaleWriteRefused });
    expect(await stack.servers('fence-direct')).toEqual(before);
    const refusals = await database.db('fence_refusals').where({ lane_id: laneId });
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({
      release_id: facts.releaseId,
      attempt: 2,
      token: String(forwardFence(laneId, epoch, 1).token),
      newer_token: String(rollbackFence(laneId, epoch).token),
      writer: 'haproxy',
    });
  });

  it('holds the lane while a write runs, takes the token back when the write fails, and lends its connection back', async () => {
    // One connection in all: a fenced write that kept its connection would hang the next one.
    const db = openDatabase(database.url, { min: 0, max: 1 });
    const fences = new LaneFences(db);
    const laneId = "lane:o'brien:staging"; // a quote in the lane id is data, not SQL
    const writer = { releaseId: 'o-brien', stepId: 'o-brien/step-0', attempt: 1, writer: 'test' };
    const tokenOf = async () =>
      Number((await database.db('lane_fences').where({ lane_id: laneId }).first('token'))?.token);
    try {
      const epoch = await fences.takeEpoch(laneId);
      const first = forwardFence(laneId, epoch, 1);
      await fences.write(first, writer, async () => 'written');
      expect(await tokenOf()).toBe(first.token);

      const second = forwardFence(laneId, epoch, 2);
      await expect(
        fences.write(second, writer, async () => {
          throw new Error('the router said no');
        }),
      ).rejects.toThrow('the router said no');
      expect(await tokenOf()).toBe(first.token);

      // A rollback raising the fence waits for a write in progress, then refuses what comes after.
      let finishWrite = () => {};
      let writeBegan = () => {};
      const began = new Promise<void>((resolve) => (writeBegan = resolve));
      const writing = fences.write(second, writer, () => {
        writeBegan();
        return new Promise<void>((resolve) => (finishWrite = resolve));
      });
      await began; // the write holds the lane's row
      const rollback = rollbackFence(laneId, epoch);
      const raising = new LaneFences(database.db).raise(rollback);
      let raised = false;
      void raising.then(() => (raised = true));
      await eventually('the rollback to wait for the lane row', async () => {
        const waiting = await database.db.raw<{ rows: unknown[] }>(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%lane_fences%GREATEST%'`,
        );
        return waiting.rows.length === 1 ? true : undefined;
      });
      expect(raised).toBe(false);
      finishWrite();
      await writing;
      await raising;
      expect(await tokenOf()).toBe(rollback.token);
      await expect(fences.write(forwardFence(laneId, epoch, 3), writer, async () => 'late')).rejects.toBeInstanceOf(
        StaleWriteRefused,
      );
      expect(await database.db('fence_refusals').where({ lane_id: laneId })).toHaveLength(1);
    } finally {
      await db.destroy();
    }
  });
});

describe('one decision per approval', () => {
  let tollgate: TestWorker;
  const taskQueue = `fence-decisions-${Date.now()}`;
  // A client of its own: the worker (and its connection) stops and starts again in these tests.
  let releases: ReleaseClient;
  let closeClient: () => Promise<void>;
  beforeAll(async () => {
    tollgate = await startTestWorker({ db: database.db, taskQueue });
    ({ releases, close: closeClient } = await connectTestClient(taskQueue));
  });
  afterAll(async () => {
    await tollgate?.stop();
    await closeClient?.();
  });

  async function atApproval(service: string): Promise<string> {
    const spec = execSpec(journal, {
      service,
      steps: [{ setWeight: 10 }, { approval: { from: ['bob', 'carol'] } }, { setWeight: 100 }],
    });
    const { releaseId } = await releases.start(spec, alice);
    await eventually('the approval step', async () =>
      (await releases.status(releaseId)).pendingApproval ? true : undefined,
    );
    return releaseId;
  }

  /** Exactly one of approve and reject won; the other was refused with the reason; history agrees. */
  async function expectOneDecision(releaseId: string, both: PromiseSettledResult<unknown>[]): Promise<void> {
    const [approved, rejected] = both;
    const winners = both.filter((outcome) => outcome.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    const loser = both.find((outcome) => outcome.status === 'rejected');
    expect(loser?.status === 'rejected' && String(loser.reason)).toMatch(
      /already rejected by carol; the release rolls back|is already approved by bob; the release is moving on|nothing awaits approval: the release is \w+; "approval from bob, carol" was (approved by bob|rejected by carol)/,
    );
    const result = await releases.result(releaseId);
    expect(result.outcome).toBe(approved.status === 'fulfilled' ? 'Succeeded' : 'RolledBack');
    expect(rejected.status === 'fulfilled').toBe(result.outcome === 'RolledBack');
    await eventually('the audit log', async () => {
      const row = await database.db('releases').where({ release_id: releaseId }).first();
      return row?.outcome ? true : undefined;
    });
    const decisions = await database.db('approvals').where({ release_id: releaseId });
    expect(decisions.map((decision) => decision.decision)).toEqual([
      result.outcome === 'Succeeded' ? 'approved' : 'rejected',
    ]);
  }

  it('holds when approve and reject arrive together while no worker runs, many times', async () => {
    for (let round = 0; round < 3; round++) {
      const releaseId = await atApproval(`decide-down-${round}`);
      await tollgate.stop();
      const both = Promise.allSettled([
        releases.approve(releaseId, { approver: bob }),
        releases.reject(releaseId, { approver: carol, reason: 'not now' }),
      ]);
      tollgate = await startTestWorker({ db: database.db, taskQueue });
      await expectOneDecision(releaseId, await both);
    }
  });

  it('holds when approve and reject arrive together while the worker runs, many times', async () => {
    for (let round = 0; round < 5; round++) {
      const releaseId = await atApproval(`decide-up-${round}`);
      const both = await Promise.allSettled([
        releases.approve(releaseId, { approver: bob }),
        releases.reject(releaseId, { approver: carol, reason: 'not now' }),
      ]);
      await expectOneDecision(releaseId, both);
    }
  });
});

describe('checks before anything changes, and undos that cannot succeed', () => {
  let tollgate: TestWorker;
  beforeAll(async () => {
    tollgate = await startTestWorker({ db: database.db, taskQueue: `fence-checks-${Date.now()}` });
  });
  afterAll(async () => {
    await tollgate?.stop();
  });

  it('refuses at Planning a spec whose env: secret the worker lacks, naming it and where it is used, with nothing deployed', async () => {
    const spec = execSpec(journal, {
      service: 'secretive',
      steps: [{ setWeight: 100 }],
      env: { API_TOKEN: 'env:TOLLGATE_TEST_SECRET_THAT_IS_NOT_SET' },
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    const result = await tollgate.releases.result(releaseId);
    expect(result.outcome).toBe('Failed');
    expect(result.reason).toMatch(
      /^not started: the worker's environment lacks env:TOLLGATE_TEST_SECRET_THAT_IS_NOT_SET \(used at deploy\.env\.API_TOKEN\), env:TOLLGATE_TEST_SECRET_THAT_IS_NOT_SET \(used at traffic\.env\.API_TOKEN\)/,
    );
    expect(journal.lines()).toEqual([]);
    expect((await tollgate.releases.status(releaseId)).events.map((event) => event.stage)).not.toContain('Deploying');
  });

  it('ends Failed at once, with the reason, when an undo names a command that does not exist', async () => {
    const spec = execSpec(journal, {
      service: 'undo-typo',
      steps: [{ setWeight: 20 }, { approval: { from: ['bob'] } }],
      undeploy: './undeploy-that-does-not-exist.sh',
      execution: { rollbackTimeout: '1h' },
    });
    const { releaseId } = await tollgate.releases.start(spec, alice);
    await eventually('the approval step', async () =>
      (await tollgate.releases.status(releaseId)).pendingApproval ? true : undefined,
    );
    await tollgate.releases.reject(releaseId, { approver: bob, reason: 'no' });
    const result = await tollgate.releases.result(releaseId);
    expect(result.outcome).toBe('Failed');
    expect(result.reason).toMatch(/compensation "undeploy 2.0.0" failed: .*could not find or run it \(exit 127\)/s);
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 20', 'setWeight 0']);
  });
});
