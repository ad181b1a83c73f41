import path from 'node:path';
import { migrateToLatest } from '../../src/audit/database';
import { PipelineClient } from '../../src/client/pipeline-client';
import { pipelineHeadIdFor } from '../../src/domain/pipeline';
import type { Actor } from '../../src/domain/spec';
import { loadPipelineFile } from '../../src/specs/load-pipeline-file';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { Journal } from '../support/exec-spec';
import { letDeploysGo, writePipelineFiles } from '../support/pipeline-files';
import { SmokeTarget } from '../support/smoke-target';
import { saveHistory } from '../support/exported-history';
import { startTestWorker, type TestWorker } from '../support/worker';

/**
 * Records the pipeline histories (and the releases with post-deploy verification they start) that
 * test/replay/replay.test.ts replays, into histories/pipelines/:
 *
 *   RECORD_HISTORIES=1 npx jest test/replay/record-pipeline-histories.test.ts
 */
const recording = process.env.RECORD_HISTORIES === '1';
const HISTORIES = path.join(__dirname, 'histories', 'pipelines');
const alice: Actor = { id: 'alice', via: 'cli' };
const bob: Actor = { id: 'bob', via: 'slack' };

(recording ? describe : describe.skip)('recording pipeline histories for replay', () => {
  let database: TestDatabase;
  let tollgate: TestWorker;
  let pipelines: PipelineClient;
  let target: SmokeTarget;
  let journal: Journal;

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateToLatest(database.db);
    tollgate = await startTestWorker({ db: database.db, taskQueue: `record-pipelines-${Date.now()}` });
    pipelines = new PipelineClient(tollgate.client, tollgate.taskQueue);
    target = new SmokeTarget();
    await target.start();
  });
  afterAll(async () => {
    await tollgate?.stop();
    await database?.drop();
    await target?.stop();
  });
  beforeEach(() => (journal = new Journal()));
  afterEach(() => journal.remove());

  const save = (name: string, workflowId: string) => saveHistory(HISTORIES, name, workflowId);

  const commit = (sha: string, minutesAgo: number) => ({
    sha,
    committedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
  });

  it('a run promoted staging → production after a passing smoke check and an approval', async () => {
    const file = writePipelineFiles(journal, {
      service: 'replay-pipeline',
      verification: { checks: [{ name: 'health', http: { url: target.url } }], interval: '100ms' },
      environments: [{ name: 'staging' }, { name: 'production', gate: { soak: '1s', approval: { from: ['bob'] } } }],
    });
    const { pipelineId } = await pipelines.start(
      loadPipelineFile(file, { commit: commit('f0f0001', 10), version: '7.0.0' }),
      alice,
    );
    await eventually('the approval', async () =>
      (await pipelines.status(pipelineId)).pendingApproval ? true : undefined,
    );
    await tollgate.releases.approve(pipelineId, { approver: bob });
    await pipelines.result(pipelineId);
    await save('pipeline-succeeded', pipelineId);
    await save('release-verified', 'replay-pipeline:staging:7.0.0');
  });

  it('a run stopped by a failing smoke check in staging', async () => {
    target.breakVersion('7.1.0');
    const file = writePipelineFiles(journal, {
      service: 'replay-pipeline-fail',
      verification: { checks: [{ name: 'health', http: { url: target.url } }], attempts: 2, interval: '100ms' },
      environments: [{ name: 'staging' }, { name: 'production' }],
    });
    const { pipelineId } = await pipelines.start(
      loadPipelineFile(file, { commit: commit('f0f0002', 10), version: '7.1.0' }),
      alice,
    );
    await pipelines.result(pipelineId);
    await save('pipeline-stopped-by-smoke-check', pipelineId);
    await save('release-verification-failed', 'replay-pipeline-fail:staging:7.1.0');
  });

  it('two quick commits: the older run is superseded', async () => {
    const file = writePipelineFiles(journal, {
      service: 'replay-supersede',
      holdDeployWhen: '[ "$TOLLGATE_ENVIRONMENT" = staging ]',
      environments: [{ name: 'staging' }, { name: 'production' }],
    });
    const older = await pipelines.start(
      loadPipelineFile(file, { commit: commit('f0f0003', 2), version: '7.2.0' }),
      alice,
    );
    const newer = await pipelines.start(
      loadPipelineFile(file, { commit: commit('f0f0004', 1), version: '7.2.1' }),
      alice,
    );
    await eventually('the older run to be superseded', async () =>
      (await pipelines.status(older.pipelineId)).supersededBy ? true : undefined,
    );
    letDeploysGo(journal);
    await pipelines.result(older.pipelineId);
    await pipelines.result(newer.pipelineId);
    await save('pipeline-superseded', older.pipelineId);
    await save('pipeline-head', pipelineHeadIdFor('replay-supersede'));
  });
});
