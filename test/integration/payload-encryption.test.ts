import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DefaultLogger, Runtime, Worker, type LogEntry } from '@temporalio/worker';
import { migrateToLatest } from '../../src/audit/database';
import { createCodecHandler } from '../../src/codec/codec-server';
import { dataConverterFor } from '../../src/codec/data-converter';
import { EncryptionCodec } from '../../src/codec/encryption-codec';
import { parsePayloadKeys } from '../../src/codec/payload-keys';
import type { Actor } from '../../src/domain/spec';
import { exportedHistory } from '../support/exported-history';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { execSpec, Journal } from '../support/exec-spec';
import { testEnv } from '../support/stack-env';
import { startTestWorker, type TestWorker } from '../support/worker';
import { eventually } from '../support/eventually';

const KEYS = `k1:${crypto.randomBytes(32).toString('base64')}`;
const SPEC_MARKER = 'marker-from-the-spec-d41d8cd9';
const COMMENT_MARKER = 'comment-from-the-approver-8f00b204';
const alice: Actor = { id: 'alice', via: 'cli' };
const bob: Actor = { id: 'bob', via: 'slack' };

let database: TestDatabase;
let tollgate: TestWorker;
let journal: Journal;

/** What the worker's workflows and the SDK log, as an operator's log collector would keep it. */
const workerLog: LogEntry[] = [];

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('INFO', (entry) => workerLog.push(entry)) });
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  tollgate = await startTestWorker({
    db: database.db,
    taskQueue: `codec-${Date.now()}`,
    dataConverter: dataConverterFor({ TOLLGATE_PAYLOAD_KEYS: KEYS }),
  });
  journal = new Journal();
});

afterAll(async () => {
  await tollgate?.stop();
  await database?.drop();
  journal?.remove();
});

/** Every payload's bytes in an exported history, decoded from base64, with their JSON path. */
function payloadTexts(node: unknown, path = ''): { path: string; text: string }[] {
  if (Array.isArray(node)) return node.flatMap((item, index) => payloadTexts(item, `${path}[${index}]`));
  if (node === null || typeof node !== 'object') return [];
  const record = node as Record<string, unknown>;
  const here =
    typeof record.data === 'string' ? [{ path, text: Buffer.from(record.data, 'base64').toString('latin1') }] : [];
  return [...here, ...Object.entries(record).flatMap(([key, value]) => payloadTexts(value, `${path}.${key}`))];
}

describe('with payload encryption on', () => {
  let historyJson: { events: unknown[] };
  let releaseId: string;

  beforeAll(async () => {
    const spec = execSpec(journal, {
      service: 'vault',
      steps: [{ setWeight: 10 }, { approval: { from: ['bob'] } }, { setWeight: 100 }],
      deploy: `${journal.append('deploy $TOLLGATE_VERSION')} # ${SPEC_MARKER}`,
    });
    ({ releaseId } = await tollgate.releases.start(spec, alice));
    await eventually('approval', async () =>
      (await tollgate.releases.status(releaseId)).pendingApproval ? true : undefined,
    );
    await tollgate.releases.approve(releaseId, { approver: bob, comment: COMMENT_MARKER });
    expect(await tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });

    historyJson = await exportedHistory(releaseId);
  });

  it('keeps the spec and the approver comment out of the history Temporal stores', () => {
    const raw = JSON.stringify(historyJson);
    expect(raw).not.toContain(SPEC_MARKER);
    expect(raw).not.toContain(COMMENT_MARKER);
    const leaks = payloadTexts(historyJson).filter(
      ({ text }) => text.includes(SPEC_MARKER) || text.includes(COMMENT_MARKER) || text.includes('"service":"vault"'),
    );
    expect(leaks).toEqual([]);
    // The release still ran its real commands, and a person reading through Tollgate sees the comment.
    expect(journal.lines()[0]).toBe('deploy 2.0.0');
  });

  it("keeps the approver's comment out of the worker's info log", () => {
    const approval = workerLog.filter(
      (entry) => entry.meta?.releaseId === releaseId && entry.meta?.kind === 'approval',
    );
    expect(approval).toHaveLength(1); // the decision is logged, without its words
    expect(
      JSON.stringify(workerLog, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)),
    ).not.toContain(COMMENT_MARKER);
  });

  it('lets the worker replay that history with the same keys', async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // installed already
    }
    await Worker.runReplayHistory(
      {
        workflowBundle: { code: fs.readFileSync(testEnv('workflowBundle'), 'utf8') },
        dataConverter: dataConverterFor({ TOLLGATE_PAYLOAD_KEYS: KEYS }),
      },
      historyJson,
      releaseId,
    );
  });

  it('decrypts through the codec endpoint for a token holder only, as the Temporal UI asks', async () => {
    const server = http.createServer(
      createCodecHandler({ codec: new EncryptionCodec(parsePayloadKeys(KEYS)), tokens: ['ui-reader-token'] }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/decode`;
    const encrypted = payloadTexts(historyJson).length;
    expect(encrypted).toBeGreaterThan(0);
    const firstInput = (
      historyJson.events[0] as { workflowExecutionStartedEventAttributes: { input: { payloads: unknown[] } } }
    ).workflowExecutionStartedEventAttributes.input;
    try {
      const refused = await fetch(url, {
        method: 'POST',
        body: JSON.stringify(firstInput),
        headers: { 'Content-Type': 'application/json' },
      });
      expect(refused.status).toBe(401);
      const decoded = await fetch(url, {
        method: 'POST',
        body: JSON.stringify(firstInput),
        headers: {
          'Content-Type': 'application/json',
          // Any case of the scheme (RFC 7235), as some proxies and UIs write it.
          Authorization: 'bearer ui-reader-token',
          'X-Namespace': 'default',
        },
      });
      expect(decoded.status).toBe(200);
      const { payloads } = (await decoded.json()) as { payloads: { data: string }[] };
      expect(Buffer.from(payloads[0].data, 'base64').toString()).toContain(SPEC_MARKER);
    } finally {
      server.close();
    }
  });
});

describe('a failed release with payload encryption on', () => {
  const STDERR_MARKER = 'stderr-of-the-failed-deploy-5f4dcc3b';
  const COMMAND_MARKER = 'command-line-of-the-deploy-e99a18c4';
  let historyJson: { events: unknown[] };
  let releaseId: string;

  beforeAll(async () => {
    const spec = execSpec(journal, {
      service: 'vault-failing',
      steps: [{ setWeight: 10 }, { setWeight: 100 }],
      deploy: `echo "${STDERR_MARKER} in $PWD" >&2; exit 7 # ${COMMAND_MARKER}`,
      execution: { attempts: 1 },
    });
    ({ releaseId } = await tollgate.releases.start(spec, alice));
    const result = await tollgate.releases.result(releaseId);
    // A reader holding the keys still learns why: the reason is only hidden from Temporal's storage.
    expect(result).toMatchObject({ outcome: 'RolledBack', reason: expect.stringContaining(STDERR_MARKER) });
    historyJson = await exportedHistory(releaseId);
  });

  it('stores no command line, stderr or path of the worker in clear text', () => {
    const raw = JSON.stringify(historyJson);
    // The failures are in the history (the failed deploy, the release's own failure), encoded.
    expect(raw).toContain('encodedAttributes');
    for (const secret of [STDERR_MARKER, COMMAND_MARKER, journal.dir, process.cwd()]) {
      expect(raw).not.toContain(secret);
      expect(payloadTexts(historyJson).filter(({ text }) => text.includes(secret))).toEqual([]);
    }
  });

  it('lets the worker replay that history with the same keys', async () => {
    await Worker.runReplayHistory(
      {
        workflowBundle: { code: fs.readFileSync(testEnv('workflowBundle'), 'utf8') },
        dataConverter: dataConverterFor({ TOLLGATE_PAYLOAD_KEYS: KEYS }),
      },
      historyJson,
      releaseId,
    );
  });
});
