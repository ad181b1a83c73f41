import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import { createAppServer } from '../../src/app/app-server';
import { migrateToLatest } from '../../src/audit/database';
import { ReleaseClient } from '../../src/client/release-client';
import { ACTIONS } from '../../src/slack/release-message';
import { Releasers } from '../../src/slack/releasers';
import { createSlackApp } from '../../src/slack/slack-app';
import { createSlackWebClient } from '../../src/slack/web-client';
import { SpecCatalogue } from '../../src/specs/catalogue';
import { PipelineClient } from '../../src/client/pipeline-client';
import { connectClient } from '../../src/temporal/connection';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { FakeSlack, type FakeMessage } from '../support/fake-slack';
import { Journal } from '../support/exec-spec';
import { buttonClick, postSignedToSlackApp, slashCommand } from '../support/slack-requests';
import { connectTestClient, startTestWorker, type TestWorker } from '../support/worker';
import { eventually } from '../support/eventually';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import { required } from '../../src/domain/required';

const TOKEN = 'xoxb-test-0000-tollgate';
const SECRET = 'signing-secret-for-tests-only';
const CHANNEL = 'C0DEPLOYS';
const log = pino({ level: 'silent' });

let database: TestDatabase;
let journal: Journal;
let fake: FakeSlack;
let catalogue: SpecCatalogue;

function writeSpec(service: string, environment: string, steps: unknown[]): void {
  const env = { JOURNAL: journal.file };
  journal.putInCatalogue({
    service,
    environment,
    deploy: {
      provider: 'exec',
      deploy: journal.append(`deploy ${service} $TOLLGATE_VERSION`),
      undeploy: journal.append(`undeploy ${service} $TOLLGATE_VERSION`),
      env,
    },
    traffic: { provider: 'exec', setWeight: journal.append(`setWeight ${service} $TOLLGATE_WEIGHT`), env },
    strategy: { canary: { steps } },
    notify: { slack: { channel: '#deploys' } },
    execution: { heartbeatTimeout: '3s' },
  });
}

async function startApp(releases: () => Promise<ReleaseClient>): Promise<{ url: string; server: http.Server }> {
  const slack = createSlackApp({
    config: { SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl },
    releases,
    catalogue,
    releasers: Releasers.parse('production=group:release-managers'),
    log,
  });
  const server = createAppServer({ slack: slack.requestListener }, log);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`, server };
}

function messageOf(releaseId: string): FakeMessage | undefined {
  return fake.topLevelMessages(CHANNEL).find((message) => message.metadata?.event_payload.release_id === releaseId);
}

const blocksText = (message: FakeMessage | undefined) => JSON.stringify(message?.blocks ?? []);

let responseCounter = 0;
const command = (text: string, userId: string, userName: string) => {
  const id = `r${++responseCounter}`;
  return { id, body: slashCommand({ text, userId, userName, channelId: CHANNEL, responseUrl: fake.responseUrl(id) }) };
};
const click = (actionId: string, releaseId: string, userId: string, userName: string) => {
  const id = `r${++responseCounter}`;
  const message = required(messageOf(releaseId), `Slack message of ${releaseId}`);
  return {
    id,
    body: buttonClick({
      actionId,
      value: releaseId,
      userId,
      userName,
      channelId: CHANNEL,
      messageTs: message.ts,
      responseUrl: fake.responseUrl(id),
    }),
  };
};
const answerTo = (id: string) =>
  eventually(
    `the answer to ${id}`,
    async () =>
      fake.responses.find((response) => response.id === id)?.body as
        { text: string; response_type?: string } | undefined,
  );

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  journal = new Journal();
  fake = await new FakeSlack({
    token: TOKEN,
    channels: [{ id: CHANNEL, name: 'deploys' }],
    groups: { 'release-managers': ['U0ALICE', 'U0BOB'] },
  }).start();
  catalogue = new SpecCatalogue(journal.catalogue);
  writeSpec('storefront', 'production', [
    { setWeight: 10 },
    { approval: { from: ['group:release-managers'] } },
    { setWeight: 100 },
  ]);
  writeSpec('basket', 'staging', [{ setWeight: 50 }, { pause: { duration: '2s' } }, { setWeight: 100 }]);
  writeSpec('finder', 'staging', [{ setWeight: 50 }, { pause: { duration: '2s' } }, { setWeight: 100 }]);
});

afterAll(async () => {
  await fake?.stop();
  await database?.drop();
  journal?.remove();
});

describe('the Slack app, with a worker', () => {
  let tollgate: TestWorker;
  let app: { url: string; server: http.Server };

  beforeAll(async () => {
    tollgate = await startTestWorker({
      db: database.db,
      taskQueue: `slack-${Date.now()}`,
      slack: createSlackWebClient({ SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: fake.apiUrl }),
    });
    app = await startApp(async () => tollgate.releases);
  });
  afterAll(async () => {
    app?.server.close();
    await tollgate?.stop();
  });

  it('starts a pipeline from /release pipeline, and its one message shows the whole run and takes the approval', async () => {
    fs.mkdirSync(path.join(journal.catalogue, 'basket', 'pipelines'), { recursive: true });
    fs.writeFileSync(
      path.join(journal.catalogue, 'basket', 'pipelines', 'basket.yaml'),
      YAML.stringify({
        service: 'basket',
        release: '../staging.yaml',
        environments: [
          { name: 'staging', overrides: { strategy: { canary: { steps: [{ setWeight: 100 }] } } } },
          { name: 'production', gate: { approval: { from: ['group:release-managers'] } } },
        ],
      }),
    );
    const { id, body } = command('pipeline basket 9.0.0 abc1234 2026-11-30T10:00:00Z', 'U0ALICE', 'alice');
    expect((await postSignedToSlackApp(app.url, body, { secret: SECRET })).status).toBe(200);
    expect((await answerTo(id)).text).toMatch(/^Started `pipeline:basket:abc1234` \(staging → production\)/);

    const pipelineId = 'pipeline:basket:abc1234';
    await eventually("the run's message to offer Approve", async () =>
      blocksText(messageOf(pipelineId)).includes(ACTIONS.approve) ? true : undefined,
    );
    expect(blocksText(messageOf(pipelineId))).toContain('basket:staging:9.0.0');
    const approve = click(ACTIONS.approve, pipelineId, 'U0BOB', 'bob');
    expect((await postSignedToSlackApp(app.url, approve.body, { secret: SECRET })).status).toBe(200);

    const pipelines = new PipelineClient(tollgate.client, tollgate.taskQueue);
    expect(await pipelines.result(pipelineId)).toMatchObject({ outcome: 'Succeeded' });
    const message = await eventually("the run's message to show the end", async () => {
      const found = messageOf(pipelineId);
      return blocksText(found).includes('*production* Succeeded') ? found : undefined;
    });
    expect(
      fake.topLevelMessages(CHANNEL).filter((m) => m.metadata?.event_payload.release_id === pipelineId),
    ).toHaveLength(1);
    expect(blocksText(message)).toContain('*staging* Succeeded');
    expect(blocksText(message)).not.toContain(ACTIONS.approve);
  });

  it('starts a release from /release, posts one message, edits it as the release moves, and shows who approved', async () => {
    const { id, body } = command('storefront 2.4.0 production', 'U0ALICE', 'alice');
    const acked = await postSignedToSlackApp(app.url, body, { secret: SECRET });
    expect(acked.status).toBe(200);
    expect((await answerTo(id)).text).toMatch(/^Started `storefront:production:2\.4\.0`/);

    const releaseId = 'storefront:production:2.4.0';
    await eventually('the message to offer Approve', async () =>
      blocksText(messageOf(releaseId)).includes(ACTIONS.approve) ? true : undefined,
    );
    const approve = click(ACTIONS.approve, releaseId, 'U0BOB', 'bob');
    expect((await postSignedToSlackApp(app.url, approve.body, { secret: SECRET })).status).toBe(200);

    expect(await tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
    const message = await eventually('the message to show the end', async () => {
      const found = messageOf(releaseId);
      return blocksText(found).includes('Succeeded') ? found : undefined;
    });
    expect(
      fake.topLevelMessages(CHANNEL).filter((m) => m.metadata?.event_payload.release_id === releaseId),
    ).toHaveLength(1);
    expect(message.updates).toBeGreaterThanOrEqual(3);
    expect(blocksText(message)).toContain('Approved by <@U0BOB>');
    expect(blocksText(message)).not.toContain(ACTIONS.approve);
    // The thread tells the story, each step once.
    const thread = fake.messages.filter((m) => m.thread_ts === message.ts).map((m) => m.text ?? '');
    expect(thread.filter((text) => text.includes('approved by'))).toHaveLength(1);
    expect(thread.some((text) => text.startsWith('*Succeeded*'))).toBe(true);
  });

  it('refuses the initiator under four-eyes and a non-approver, each with the reason, and nothing moves', async () => {
    const { body } = command('storefront 2.5.0 production', 'U0ALICE', 'alice');
    await postSignedToSlackApp(app.url, body, { secret: SECRET });
    const releaseId = 'storefront:production:2.5.0';
    await eventually('the message to offer Approve', async () =>
      blocksText(messageOf(releaseId)).includes(ACTIONS.approve) ? true : undefined,
    );

    const own = click(ACTIONS.approve, releaseId, 'U0ALICE', 'alice');
    await postSignedToSlackApp(app.url, own.body, { secret: SECRET });
    expect(await answerTo(own.id)).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/^Refused: four-eyes: U0ALICE started this production release and cannot approve it/),
    });

    const stranger = click(ACTIONS.approve, releaseId, 'U0MALLORY', 'mallory');
    await postSignedToSlackApp(app.url, stranger.body, { secret: SECRET });
    expect(await answerTo(stranger.id)).toMatchObject({
      text: expect.stringMatching(/^Refused: U0MALLORY is not an approver for "approval from group:release-managers"/),
    });

    const status = await tollgate.releases.status(releaseId);
    expect(status.pendingApproval?.approvals).toEqual([]);
    expect(status.weight).toBe(10);

    const reject = click(ACTIONS.reject, releaseId, 'U0BOB', 'bob');
    await postSignedToSlackApp(app.url, reject.body, { secret: SECRET });
    expect(await tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'RolledBack' });
  });

  it('refuses, with 401 and nothing started, a forged signature, an altered body, and a timestamp over 5 minutes old or ahead', async () => {
    const { body } = command('storefront 6.6.6 production', 'U0ALICE', 'alice');
    const forged = await postSignedToSlackApp(app.url, body, { secret: 'not-the-secret' });
    const altered = await postSignedToSlackApp(app.url, body, {
      secret: SECRET,
      sendBody: body.replace('6.6.6', '7.7.7'),
    });
    const stale = await postSignedToSlackApp(app.url, body, {
      secret: SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    const future = await postSignedToSlackApp(app.url, body, {
      secret: SECRET,
      timestamp: Math.floor(Date.now() / 1000) + 600,
    });
    expect([forged.status, altered.status, stale.status, future.status]).toEqual([401, 401, 401, 401]);
    const releases = await tollgate.releases.list({ service: 'storefront' });
    expect(releases.map((r) => r.version)).not.toEqual(expect.arrayContaining(['6.6.6']));
    expect(releases.map((r) => r.version)).not.toEqual(expect.arrayContaining(['7.7.7']));
  });

  it('starts one release when Slack delivers the same command again as a retry', async () => {
    const first = command('basket 1.2.0 staging', 'U0CAROL', 'carol');
    await postSignedToSlackApp(app.url, first.body, { secret: SECRET });
    // The retry comes once the first has started the release (its answer was sent): Slack redelivers
    // a command whose acknowledgement it did not see. Sent together, either one may start it.
    await eventually('the first answer', () =>
      fake.responses.some((response) => response.id === first.id) ? true : undefined,
    );
    const retry = { ...first, id: first.id };
    await postSignedToSlackApp(app.url, retry.body, { secret: SECRET, retryNum: 1 });
    const answers = await eventually('both answers', async () => {
      const found = fake.responses.filter((response) => response.id === first.id);
      return found.length === 2 ? found.map((response) => String(response.body.text)) : undefined;
    });
    expect(answers.sort()).toEqual([
      expect.stringMatching(/^Started `basket:staging:1\.2\.0`/),
      'basket:staging:1.2.0 is already running.',
    ]);
    expect(await tollgate.releases.result('basket:staging:1.2.0')).toMatchObject({ outcome: 'Succeeded' });
    expect(journal.lines().filter((line) => line === 'deploy basket 1.2.0')).toHaveLength(1);
    expect(
      fake.topLevelMessages(CHANNEL).filter((m) => m.metadata?.event_payload.release_id === 'basket:staging:1.2.0'),
    ).toHaveLength(1);
  });

  it('escapes names, reasons and output that are not Slack ids, so no broadcast or disguised link goes through', async () => {
    const hostile = '<!channel> <http://evil.example|the runbook>';
    const escaped = '&lt;!channel&gt; &lt;http://evil.example|the runbook&gt;';
    const noMarkupFromOutside = (text: string) => {
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<http://evil.example');
    };

    // A freeze reason from elsewhere, shown to whoever tries to start a release. (basket: its lane
    // runs on this worker's task queue; finder's belongs to the worker-crash test below.)
    await tollgate.releases.freeze('basket', 'staging', { reason: hostile, by: hostile, at: new Date().toISOString() });
    // The lane takes a freeze once the worker has checked who sent it.
    await eventually('the basket lane frozen', async () =>
      (await tollgate.releases.lane('basket', 'staging')).policy.freeze ? true : undefined,
    );
    const held = command('basket 5.0.0 staging', 'U0ALICE', 'alice');
    await postSignedToSlackApp(app.url, held.body, { secret: SECRET });
    const heldAnswer = (await answerTo(held.id)).text;
    expect(heldAnswer).toContain(escaped);
    noMarkupFromOutside(heldAnswer);
    await tollgate.releases.unfreeze('basket', 'staging', 'U0ALICE', 'done');

    // A release started by someone whose id is not a Slack id, rejected with a hostile reason.
    const spec = catalogue.load('storefront', 'production', { version: '2.7.0' });
    const { releaseId } = await tollgate.releases.start(spec, { id: hostile, via: 'cli' });
    await eventually('the message to offer Approve', async () =>
      blocksText(messageOf(releaseId)).includes(ACTIONS.approve) ? true : undefined,
    );
    await tollgate.releases.reject(releaseId, {
      approver: { id: 'U0BOB', groups: ['release-managers'], via: 'slack' },
      reason: hostile,
    });
    expect(await tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'RolledBack' });
    const message = await eventually('the message to show the end', async () =>
      blocksText(messageOf(releaseId)).includes('RolledBack') ? messageOf(releaseId) : undefined,
    );
    const thread = await eventually('the rejection in the thread', async () => {
      const texts = fake.messages.filter((m) => m.thread_ts === message.ts).map((m) => m.text ?? '');
      return texts.some((text) => text.includes('rejected by')) ? texts.join('\n') : undefined;
    });
    // What Slack received: the text arrives as text, in the message and in its thread.
    expect(blocksText(message)).toContain(JSON.stringify(escaped).slice(1, -1));
    expect(thread).toContain(escaped);
    noMarkupFromOutside(blocksText(message));
    noMarkupFromOutside(`${message.text ?? ''}\n${thread}`);
  });

  it('answers in the channel who may not release to production, and starts nothing', async () => {
    const { id, body } = command('storefront 2.6.0 production', 'U0MALLORY', 'mallory');
    await postSignedToSlackApp(app.url, body, { secret: SECRET });
    expect(await answerTo(id)).toMatchObject({
      response_type: 'ephemeral',
      text: 'Not started: you may not release to production; ask one of @release-managers.',
    });
    const unknown = command('ledger 1.0.0 staging', 'U0ALICE', 'alice');
    await postSignedToSlackApp(app.url, unknown.body, { secret: SECRET });
    expect((await answerTo(unknown.id)).text).toMatch(
      /^Unknown service ledger\. The catalogue has basket, finder, storefront/,
    );
    const badVersion = command('storefront two-point-oh! production', 'U0ALICE', 'alice');
    await postSignedToSlackApp(app.url, badVersion.body, { secret: SECRET });
    expect((await answerTo(badVersion.id)).text).toMatch(/^"two-point-oh!" is not a version such as 2\.4\.0\./);
  });
});

describe('the Slack app when Temporal cannot be reached', () => {
  it('acknowledges before it talks to Temporal, then tells the user, rather than timing out', async () => {
    // Slack's deadline for an acknowledgement is 3 seconds, whatever Temporal is doing: the app
    // must answer the request before it even tries to reach Temporal. The test holds that attempt
    // until the acknowledgement has arrived.
    let reachTemporal = () => {};
    const held = new Promise<void>((resolve) => (reachTemporal = resolve));
    const app = await startApp(async () => {
      await held;
      return new ReleaseClient(
        await connectClient({ TEMPORAL_ADDRESS: '127.0.0.1:1', TEMPORAL_NAMESPACE: 'default' } as never),
        'nowhere',
      );
    });
    try {
      const { id, body } = command('basket 1.3.0 staging', 'U0ALICE', 'alice');
      const acked = await postSignedToSlackApp(app.url, body, { secret: SECRET });
      expect(acked.status).toBe(200);
      reachTemporal();
      expect((await answerTo(id)).text).toMatch(
        /^Tollgate cannot reach Temporal right now, so nothing was started or changed/,
      );
    } finally {
      app.server.close();
    }
  });
});

describe('the Slack message when a worker dies after posting it', () => {
  const workers: WorkerProcess[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop().catch(() => undefined)));
  });

  it('is one message, edited, not two', async () => {
    const taskQueue = `slack-crash-${Date.now()}`;
    const { releases, close } = await connectTestClient(taskQueue);
    const app = await startApp(async () => releases);
    const env = { SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: fake.apiUrl };
    workers.push(await startWorkerProcess({ taskQueue, databaseUrl: database.url, env }));
    try {
      // Slack stores the first post, but the worker dies before it hears back.
      const releaseAnswers = fake.holdPostAnswers();
      const { body } = command('finder 4.0.0 staging', 'U0ALICE', 'alice');
      await postSignedToSlackApp(app.url, body, { secret: SECRET });
      const releaseId = 'finder:staging:4.0.0';
      await eventually('Slack to receive the first post', async () => messageOf(releaseId));
      await workers[0].kill();
      releaseAnswers();
      workers.push(await startWorkerProcess({ taskQueue, databaseUrl: database.url, env }));

      expect(await releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
      const message = await eventually('the message to show the end', async () =>
        blocksText(messageOf(releaseId)).includes('Succeeded') ? messageOf(releaseId) : undefined,
      );
      expect(
        fake.topLevelMessages(CHANNEL).filter((m) => m.metadata?.event_payload.release_id === releaseId),
      ).toHaveLength(1);
      expect(message.updates).toBeGreaterThanOrEqual(1);
    } finally {
      app.server.close();
      await close();
    }
  });
});
