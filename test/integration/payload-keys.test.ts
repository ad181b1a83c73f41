import crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { ReleaseClient } from '../../src/client/release-client';
import { dataConverterFor } from '../../src/codec/data-converter';
import { laneIdFor } from '../../src/domain/release';
import type { Actor } from '../../src/domain/spec';
import { freezeSignal } from '../../src/workflows/api';
import { execSpec, Journal } from '../support/exec-spec';
import { eventually } from '../support/eventually';
import { testEnv } from '../support/stack-env';
import { startTollgate, type TollgateUnderTest } from '../support/tollgate-under-test';

const K1 = `k1:${crypto.randomBytes(32).toString('base64')}`;
const K2 = `k2:${crypto.randomBytes(32).toString('base64')}`;
const alice: Actor = { id: 'alice', via: 'cli' };

let under: TollgateUnderTest;
let journal: Journal;
let connection: Connection;
/** A client whose keys were rotated before the workers': it encrypts with k2, which they lack. */
let rotated: Client;

beforeAll(async () => {
  under = await startTollgate('payload-keys', { dataConverter: dataConverterFor({ TOLLGATE_PAYLOAD_KEYS: K1 }) });
  journal = new Journal();
  connection = await Connection.connect({ address: testEnv('temporalAddress') });
  rotated = new Client({ connection, dataConverter: dataConverterFor({ TOLLGATE_PAYLOAD_KEYS: `${K2},${K1}` }) });
  // The worker announces its keys when it polls.
  await eventually('the worker to poll its task queue', async () => {
    const { pollers } = await under.tollgate.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: under.tollgate.taskQueue },
    });
    return pollers?.length ? pollers : undefined;
  });
});

afterAll(async () => {
  await under?.stop();
  await connection?.close();
  journal?.remove();
});

describe('payload keys that clients and workers do not share', () => {
  it('refuses to encrypt with a key id the workers do not announce, and sends nothing', async () => {
    const releases = new ReleaseClient(rotated, under.tollgate.taskQueue);
    const spec = execSpec(journal, { service: 'keyring', steps: [{ setWeight: 100 }] });
    await expect(releases.start(spec, alice)).rejects.toThrow(
      /encrypts with payload key "k2", but worker \S+ \(keys: k1\) .* Give the workers key "k2"/,
    );
    await expect(
      releases.freeze('keyring', 'staging', { reason: 'x', by: 'alice', at: '2026-11-30T10:00:00Z' }),
    ).rejects.toThrow(/payload key "k2"/);
    await expect(under.tollgate.releases.status('keyring:staging:2.0.0')).rejects.toThrow(/no release or lane called/);
  });

  it('says what is wrong with a lane a client wrote with a key the workers lack, and how to fix it', async () => {
    // A client writing to Temporal directly, without Tollgate's check: the worker cannot read the lane.
    await rotated.workflow.signalWithStart('laneWorkflow', {
      workflowId: laneIdFor('keyless', 'staging'),
      taskQueue: under.tollgate.taskQueue,
      args: [{ service: 'keyless', environment: 'staging' }],
      signal: freezeSignal,
      signalArgs: [{ reason: 'written with k2', by: 'mallory', at: new Date().toISOString() }],
    });
    await eventually('the worker to fail the first workflow task of the lane', async () => {
      const described = await rotated.workflowService.describeWorkflowExecution({
        namespace: 'default',
        execution: { workflowId: laneIdFor('keyless', 'staging') },
      });
      return (described.pendingWorkflowTask?.attempt ?? 0) >= 2 ? true : undefined;
    });
    for (const releases of [under.tollgate.releases, new ReleaseClient(rotated, under.tollgate.taskQueue)])
      await expect(releases.lane('keyless', 'staging')).rejects.toThrow(
        /keyless\/staging cannot run: it holds payloads encrypted with key "k2", which the workers .* do not have\. Give the workers key "k2"/,
      );
  });
});
