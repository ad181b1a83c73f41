import { migrateToLatest } from '../../src/audit/database';
import { PipelineClient } from '../../src/client/pipeline-client';
import type { Actor } from '../../src/domain/spec';
import { loadPipelineFile } from '../../src/specs/load-pipeline-file';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { Journal } from '../support/exec-spec';
import { letDeploysGo, writePipelineFiles } from '../support/pipeline-files';
import { connectTestClient } from '../support/worker';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const alice: Actor = { id: 'alice', via: 'cli' };
const bob: Actor = { id: 'bob', via: 'slack' };

let database: TestDatabase;
let journal: Journal;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  journal = new Journal();
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop().catch(() => undefined)));
  await database?.drop();
  journal?.remove();
});

async function worker(taskQueue: string): Promise<WorkerProcess> {
  const started = await startWorkerProcess({ taskQueue, databaseUrl: database.url });
  workers.push(started);
  return started;
}

describe('a worker killed with SIGKILL mid-pipeline', () => {
  it('resumes the run on a new worker process, and releases each environment once', async () => {
    const taskQueue = `pipeline-crash-${Date.now()}`;
    const { client, releases, close } = await connectTestClient(taskQueue);
    const pipelines = new PipelineClient(client, taskQueue);
    const file = writePipelineFiles(journal, {
      service: 'pipe-crash',
      holdDeployWhen: '[ "$TOLLGATE_ENVIRONMENT" = staging ]',
      environments: [{ name: 'staging' }, { name: 'production', gate: { approval: { from: ['bob'] } } }],
    });
    const loaded = loadPipelineFile(file, {
      commit: { sha: 'eee0001', committedAt: new Date().toISOString() },
      version: '6.0.0',
    });
    const first = await worker(taskQueue);
    const { pipelineId } = await pipelines.start(loaded, alice);

    // First crash: while staging's release is deploying (its command held by the test).
    await eventually('staging to be releasing', async () =>
      (await pipelines.status(pipelineId)).environments[0].state === 'releasing' ? true : undefined,
    );
    await eventually('the staging deploy to be running', async () =>
      (await releases.status('pipe-crash:staging:6.0.0')).stage === 'Deploying' ? true : undefined,
    );
    await first.kill();
    const second = await worker(taskQueue);
    letDeploysGo(journal);

    // Second crash: while the run waits for the approval to enter production.
    await eventually('the production approval to be awaited', async () =>
      (await pipelines.status(pipelineId)).pendingApproval ? true : undefined,
    );
    await second.kill();
    await worker(taskQueue);
    await releases.approve(pipelineId, { approver: bob });

    const result = await pipelines.result(pipelineId);
    expect(result.outcome).toBe('Succeeded');
    // The promotion is on record as a release's approval is: who, through which channel, how known.
    expect((await pipelines.status(pipelineId)).decisions).toEqual([
      expect.objectContaining({ approver: 'bob', decision: 'approved', via: 'slack', trust: 'none' }),
    ]);
    expect(result.environments.map((environment) => environment.state)).toEqual(['Succeeded', 'Succeeded']);
    expect(journal.lines()).toEqual([
      'deploy staging 6.0.0',
      'setWeight staging 6.0.0 100',
      'deploy production 6.0.0',
      'setWeight production 6.0.0 100',
    ]);
    // One child release per environment, each started once.
    const children: string[] = [];
    for await (const execution of client.workflow.list({ query: `ParentWorkflowId = '${pipelineId}'` }))
      children.push(execution.workflowId);
    expect(children.sort()).toEqual(['pipe-crash:production:6.0.0', 'pipe-crash:staging:6.0.0']);
    await close();
  });
});
