import fs from 'node:fs';
import path from 'node:path';
import { migrateToLatest } from '../../src/audit/database';
import type { Actor } from '../../src/domain/spec';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { execSpec, Journal } from '../support/exec-spec';
import { connectTestClient } from '../support/worker';
import { eventually } from '../support/eventually';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const alice: Actor = { id: 'alice', via: 'cli' };

let database: TestDatabase;
let journal: Journal;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop().catch(() => undefined)));
  await database?.drop();
});

beforeEach(() => {
  journal = new Journal();
});
afterEach(() => journal.remove());

/**
 * Commands as the docs ask users to write them: idempotent. Each records its invocation, and
 * applies its effect (a journal line) only once per step id, however often it is run.
 */
function idempotent(effect: string, extra = ''): string {
  const marker = `"${journal.dir}/applied-$(echo "$TOLLGATE_STEP_ID" | tr '/:' '__')"`;
  return [
    `echo "$TOLLGATE_STEP_ID" >> "${journal.dir}/invocations"`,
    extra,
    `if [ ! -f ${marker} ]; then touch ${marker}; ${journal.append(effect)}; fi`,
  ]
    .filter(Boolean)
    .join('; ');
}

/** A shell fragment that waits, at `weight` only, until the test opens that weight's gate. */
function waitAtGate(weight: number): string {
  return `[ "$TOLLGATE_WEIGHT" != ${weight} ] || while [ ! -e "${journal.dir}/open-${weight}" ]; do sleep 0.05; done`;
}

function openGate(weight: number): void {
  fs.writeFileSync(path.join(journal.dir, `open-${weight}`), '');
}

function invocations(): string[] {
  const file = path.join(journal.dir, 'invocations');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

async function worker(taskQueue: string, env?: Record<string, string>): Promise<WorkerProcess> {
  const started = await startWorkerProcess({ taskQueue, databaseUrl: database.url, env });
  workers.push(started);
  return started;
}

describe('a worker killed with SIGKILL', () => {
  it('while a release waits in a pause: a new worker process finishes it, and no forward step runs twice', async () => {
    const taskQueue = `crash-pause-${Date.now()}`;
    const { releases, close } = await connectTestClient(taskQueue);
    const spec = execSpec(journal, {
      service: 'crash-pause',
      steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { setWeight: 100 }],
      deploy: idempotent('deploy $TOLLGATE_VERSION'),
      setWeight: idempotent('setWeight $TOLLGATE_WEIGHT'),
      execution: { heartbeatTimeout: '3s' },
    });
    const first = await worker(taskQueue);
    const { releaseId } = await releases.start(spec, alice);
    await eventually('the release to reach its pause', async () =>
      (await releases.status(releaseId)).hold?.reason === 'paused until someone promotes' ? true : undefined,
    );

    await first.kill();
    await worker(taskQueue);
    await releases.promote(releaseId, { actor: alice });

    expect(await releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 10', 'setWeight 50', 'setWeight 100']);
    // Not only applied once: the steps done before the crash were not even run again.
    expect(invocations()).toEqual([
      `${releaseId}/deploy`,
      `${releaseId}/step-0`,
      `${releaseId}/step-2`,
      `${releaseId}/step-3`,
    ]);
    await close();
  });

  it('while a step runs: the step is retried on a new worker process, applied once, and the release ends Succeeded', async () => {
    const taskQueue = `crash-step-${Date.now()}`;
    const { releases, close } = await connectTestClient(taskQueue);
    const spec = execSpec(journal, {
      service: 'crash-step',
      steps: [{ setWeight: 10 }, { setWeight: 50 }, { setWeight: 100 }],
      deploy: idempotent('deploy $TOLLGATE_VERSION'),
      // The step at 50% waits for the test, which kills the worker in the middle of it.
      setWeight: idempotent('setWeight $TOLLGATE_WEIGHT', waitAtGate(50)),
      execution: { heartbeatTimeout: '3s' },
    });
    const first = await worker(taskQueue);
    const { releaseId } = await releases.start(spec, alice);
    await eventually('the 50% step to be running', async () =>
      invocations().includes(`${releaseId}/step-1`) ? true : undefined,
    );

    await first.kill();
    await worker(taskQueue);
    openGate(50);

    expect(await releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 10', 'setWeight 50', 'setWeight 100']);
    const runs = invocations();
    expect(runs.filter((id) => id === `${releaseId}/deploy`)).toHaveLength(1);
    expect(runs.filter((id) => id === `${releaseId}/step-0`)).toHaveLength(1);
    // The interrupted step ran again on the new worker (Temporal retried it); its effect is applied once.
    expect(runs.filter((id) => id === `${releaseId}/step-1`)).toHaveLength(2);
    expect(runs.filter((id) => id === `${releaseId}/step-2`)).toHaveLength(1);
    await close();
  });

  it('drains on SIGTERM: the running step finishes on the stopping worker and is not run again', async () => {
    const taskQueue = `drain-${Date.now()}`;
    const { releases, close } = await connectTestClient(taskQueue);
    const spec = execSpec(journal, {
      service: 'drain',
      steps: [{ setWeight: 10 }, { setWeight: 100 }],
      deploy: idempotent('deploy $TOLLGATE_VERSION'),
      setWeight: idempotent('setWeight $TOLLGATE_WEIGHT', waitAtGate(10)),
    });
    // The grace is far beyond what the step needs once its gate opens: the drain is never cut short.
    const first = await worker(taskQueue, { TOLLGATE_SHUTDOWN_GRACE: '5m' });
    const { releaseId } = await releases.start(spec, alice);
    await eventually('the 10% step to be running', async () =>
      invocations().includes(`${releaseId}/step-0`) ? true : undefined,
    );

    await first.startDraining();
    openGate(10); // the step finishes only after the worker has stopped taking new work
    expect(await first.exited).toBe(0);
    // The step the stopping worker had started finished there: its effect is in, and it ran once.
    expect(journal.lines()).toEqual(['deploy 2.0.0', 'setWeight 10']);

    await worker(taskQueue);
    expect(await releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
    expect(invocations().filter((id) => id === `${releaseId}/step-0`)).toHaveLength(1);
    await close();
  });
});
