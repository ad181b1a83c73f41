import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { createAppServer } from '../../src/app/app-server';
import { createDecisionApi } from '../../src/app/decision-api';
import { parseApiTokens } from '../../src/ci/api-tokens';
import { laneIdFor } from '../../src/domain/release';
import type { ReleaseSpec } from '../../src/domain/spec';
import { AppIdentity } from '../../src/identity/app-identity';
import { signAssertion } from '../../src/identity/assertion';
import type { IdentitySettings } from '../../src/identity/settings';
import { Releasers } from '../../src/slack/releasers';
import { createSlackApp } from '../../src/slack/slack-app';
import { createSlackWebClient } from '../../src/slack/web-client';
import { SpecCatalogue } from '../../src/specs/catalogue';
import { approveUpdate, pauseSignal } from '../../src/workflows/api';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { eventually } from '../support/eventually';
import { expectReplays } from '../support/replays';
import { execSpec, Journal } from '../support/exec-spec';
import { FakeSlack } from '../support/fake-slack';
import { CLI_CLIENT_ID, TestOidcIssuer } from '../support/oidc-issuer';
import { postSignedToSlackApp, slashCommand } from '../support/slack-requests';
import { testEnv } from '../support/stack-env';
import { startTollgate, type TollgateUnderTest } from '../support/tollgate-under-test';

const run = promisify(execFile);
const BIN = path.join(__dirname, '..', '..', 'bin', 'tollgate');
const ASSERTION_KEY = 'identity-test-assertion-key-0123456789abcdef';
const SLACK_TOKEN = 'xoxb-test-0000-identity';
const SLACK_SECRET = 'signing-secret-for-identity-tests';
const CHANNEL = 'C0DEPLOYS';
const CI_TOKEN = 'checkout-ci-token-0123456789abcdef';
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const USERS = {
  alice: { email: 'alice@example.com', name: 'Alice', groups: ['release-managers'] },
  bob: { email: 'bob@example.com', name: 'Bob', groups: ['release-managers'] },
  mallory: { email: 'mallory@example.com', name: 'Mallory', groups: [] },
};

let issuer: TestOidcIssuer;
let settings: IdentitySettings;
let under: TollgateUnderTest;
let journal: Journal;
let configDir: string;
let fake: FakeSlack;
let app: http.Server;
let appUrl: string;

beforeAll(async () => {
  issuer = await new TestOidcIssuer(USERS).start();
  settings = {
    mode: 'oidc',
    issuer: issuer.issuer,
    clientId: CLI_CLIENT_ID,
    audiences: [CLI_CLIENT_ID],
    identityClaim: 'email',
    groupsClaim: 'groups',
    assertionKey: ASSERTION_KEY,
  };
  journal = new Journal();
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-login-'));
  fake = await new FakeSlack({
    token: SLACK_TOKEN,
    channels: [{ id: CHANNEL, name: 'deploys' }],
    groups: { 'release-managers': ['U0ALICE', 'U0BOB'] },
    users: { U0ALICE: { name: 'alice', email: 'alice@example.com' }, U0BOB: { name: 'bob', email: 'bob@example.com' } },
  }).start();
  under = await startTollgate('identity', {
    identity: settings,
    slack: createSlackWebClient({ SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: fake.apiUrl }),
  });
  const identity = new AppIdentity(settings);
  const releases = () => Promise.resolve(under.tollgate.releases);
  writeCatalogueSpec('giftshop', 'production');
  const slack = createSlackApp({
    config: { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: SLACK_SECRET, SLACK_API_URL: fake.apiUrl },
    releases,
    catalogue: new SpecCatalogue(journal.catalogue),
    releasers: Releasers.parse(''),
    log,
    identity,
  });
  app = createAppServer(
    {
      slack: slack.requestListener,
      decisionApi: createDecisionApi({
        releases,
        identity,
        ciTokens: parseApiTokens(`checkout-ci:${CI_TOKEN}:*/*`),
        log,
      }),
    },
    log,
  );
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
});

afterAll(async () => {
  app?.close();
  await under?.stop();
  await issuer?.stop();
  await fake?.stop();
  journal?.remove();
  if (configDir) fs.rmSync(configDir, { recursive: true, force: true });
});

/**
 * A finished release replays against today's code; with TOLLGATE_RECORD_HISTORIES=1 its history is
 * also kept under test/replay/histories/proofs/, so later changes must keep replaying it.
 */
async function keepHistory(releaseId: string, name: string): Promise<void> {
  await expectReplays(under.tollgate.client, releaseId);
  if (!process.env.TOLLGATE_RECORD_HISTORIES) return;
  const history = await under.tollgate.client.workflow.getHandle(releaseId).fetchHistory();
  const folder = path.join(__dirname, '..', 'replay', 'histories', 'proofs');
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, `${name}.json`), historyToJSON(history));
}

/** A production release that waits for one approval from the release managers, four-eyes on. */
function productionSpec(service: string): ReleaseSpec {
  return {
    ...execSpec(journal, {
      service,
      environment: 'production',
      steps: [{ setWeight: 10 }, { approval: { from: ['group:release-managers'] } }, { setWeight: 100 }],
    }),
    production: true,
  };
}

function writeCatalogueSpec(service: string, environment: string): void {
  const env = { JOURNAL: journal.file };
  journal.putInCatalogue({
    service,
    environment,
    production: true,
    deploy: { provider: 'exec', deploy: journal.append('deploy'), undeploy: journal.append('undeploy'), env },
    traffic: { provider: 'exec', setWeight: journal.append('setWeight $TOLLGATE_WEIGHT'), env },
    strategy: { canary: { steps: [{ setWeight: 10 }, { approval: { from: ['group:release-managers'] } }] } },
    execution: { heartbeatTimeout: '3s' },
  });
}

async function waitForApproval(releaseId: string) {
  return eventually(`${releaseId} to wait for approval`, async () => {
    const status = await under.tollgate.releases.status(releaseId);
    return status.pendingApproval ? status : undefined;
  });
}

const cliEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  TEMPORAL_ADDRESS: testEnv('temporalAddress'),
  TOLLGATE_TASK_QUEUE: under.tollgate.taskQueue,
  TOLLGATE_OIDC_ISSUER: issuer.issuer,
  TOLLGATE_OIDC_CLIENT_ID: CLI_CLIENT_ID,
  TOLLGATE_CONFIG_DIR: configDir,
  DATABASE_URL: under.database.url,
  TOLLGATE_AUTH: '',
  TOLLGATE_USER: '',
});

/** Runs `tollgate ...` as a person would; never throws for a non-zero exit. */
async function tollgateCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: cliEnv() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** `tollgate login` through the device flow, with `accountId` at the browser. */
async function login(accountId: keyof typeof USERS): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'login', '--json'], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const prompt = await eventually('tollgate login to show the code', async () => {
    const line = stdout.split('\n').find((text) => text.includes('userCode'));
    return line ? (JSON.parse(line) as { userCode: string; verificationUri: string }) : undefined;
  });
  expect(prompt.verificationUri).toBe(`${issuer.issuer}/device`);
  await issuer.approveDevice(prompt.userCode, accountId);
  const code = await exited;
  expect({ code, problems: stderr.split('\n').filter((line) => /error|fail/i.test(line)) }).toEqual({
    code: 0,
    problems: [],
  });
  return stdout;
}

describe('the CLI, logged in through the identity provider', () => {
  it('logs in with the device flow, keeps the tokens 0600, and approves as the verified person', async () => {
    const { releaseId } = await under.tollgate.releases.start(productionSpec('idp-ledger'), {
      id: 'mallory@example.com',
      via: 'slack',
    });
    await waitForApproval(releaseId);

    const said = await login('bob');
    expect(said).toMatch(/"id": "bob@example.com"/);
    expect(fs.statSync(path.join(configDir, 'tokens.json')).mode & 0o777).toBe(0o600);
    const whoami = await tollgateCli('whoami');
    expect(whoami.stdout.trim()).toBe(
      `bob@example.com, groups release-managers (logged in at ${issuer.issuer}; the worker verifies each decision)`,
    );

    const claimed = await tollgateCli('approve', releaseId, '--as', 'alice@example.com');
    expect(claimed.code).not.toBe(0);
    expect(claimed.stderr).toMatch(/--as and --group exist only in local mode \(TOLLGATE_AUTH=none\)/);

    const approved = await tollgateCli('approve', releaseId, '--comment', 'checked the dashboards');
    expect(approved).toMatchObject({ code: 0, stdout: 'approved; the release moves on\n' });
    const status = await under.tollgate.releases.status(releaseId);
    expect(status.decisions).toEqual([
      expect.objectContaining({ approver: 'bob@example.com', decision: 'approved', via: 'cli', trust: 'verified' }),
    ]);
    expect(status.events.find((event) => event.kind === 'approval')?.data).toMatchObject({
      issuer: issuer.issuer,
      subject: 'bob',
      trust: 'verified',
      via: 'cli',
    });
    expect(await under.tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
    await keepHistory(releaseId, 'approved-with-id-token');
    const history = await eventually('the audit log to have the decision', async () => {
      const shown = await tollgateCli('history', 'idp-ledger', '--release', releaseId);
      return /decisions:/.test(shown.stdout) ? shown.stdout : undefined;
    });
    expect(history).toMatch(
      new RegExp(`bob@example.com approved "[^"]+" via cli, verified by ${issuer.issuer} \\(subject bob\\)`),
    );

    expect(await tollgateCli('logout')).toMatchObject({ code: 0, stdout: 'logged out\n' });
    const after = await tollgateCli('whoami');
    expect(after.stderr).toMatch(/you are not logged in to .*: run `tollgate login`/);
  });

  it('refuses an approval from the person who started the release in Slack (four-eyes across channels)', async () => {
    const id = 'four-eyes';
    const sent = await postSignedToSlackApp(
      `${appUrl}/slack/events`,
      slashCommand({
        text: 'giftshop 3.1.0 production',
        userId: 'U0ALICE',
        userName: 'alice',
        channelId: CHANNEL,
        responseUrl: fake.responseUrl(id),
      }),
      { secret: SLACK_SECRET },
    );
    expect(sent.status).toBe(200);
    const releaseId = 'giftshop:production:3.1.0';
    const answer = await eventually('the answer in Slack', async () => fake.responses.find((r) => r.id === id)?.body);
    expect(answer.text).toMatch(/^Started `giftshop:production:3\.1\.0`/);
    const waiting = await waitForApproval(releaseId);
    expect(waiting.initiator).toMatchObject({ id: 'alice@example.com', aliases: ['U0ALICE'], via: 'slack' });

    await login('alice');
    const refused = await tollgateCli('approve', releaseId);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /four-eyes: alice@example.com started this production release and cannot approve it/,
    );
    expect((await under.tollgate.releases.status(releaseId)).pendingApproval?.approvals).toEqual([]);
    await under.tollgate.releases.abort(releaseId, {
      actor: { id: 'alice@example.com', via: 'api' },
      proof: await issuer.mintIdToken('alice'),
    });
    expect(await under.tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'RolledBack' });
    await keepHistory(releaseId, 'four-eyes-across-channels-then-aborted');
  });
});

describe('a client that writes to Temporal directly', () => {
  it('is refused by the worker with the reason, whatever actor it claims, and the release keeps waiting', async () => {
    const { releaseId } = await under.tollgate.releases.start(productionSpec('idp-payments'), {
      id: 'alice@example.com',
      via: 'cli',
    });
    await waitForApproval(releaseId);
    const handle = under.tollgate.client.workflow.getHandle(releaseId);
    const bob = { id: 'bob@example.com', groups: ['release-managers'], via: 'cli' as const };

    await expect(handle.executeUpdate(approveUpdate, { args: [{ approver: bob }] })).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/no proof of who sent this approve/) },
    });
    await expect(
      handle.executeUpdate(approveUpdate, { args: [{ approver: bob, proof: 'made-up' }] }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/the proof is not a JWT/) } });
    const forgedAssertion = await signAssertion('not-the-app-key-but-long-enough-0123456789', bob, {
      kind: 'approve',
      target: releaseId,
    });
    await expect(
      handle.executeUpdate(approveUpdate, { args: [{ approver: bob, proof: forgedAssertion }] }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/assertion does not hold/) } });
    const assertionForAnother = await signAssertion(ASSERTION_KEY, bob, { kind: 'approve', target: 'another:release' });
    await expect(
      handle.executeUpdate(approveUpdate, { args: [{ approver: bob, proof: assertionForAnother }] }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/made for approve on another:release/) } });

    await handle.signal(pauseSignal, { actor: bob });
    const status = await eventually('the forged pause to be refused', async () => {
      const current = await under.tollgate.releases.status(releaseId);
      return current.events.some((event) => /pause by bob@example.com refused: no proof/.test(event.message))
        ? current
        : undefined;
    });
    expect(status.paused).toBeUndefined();
    expect(status.stage).toBe('Shifting');
    expect(status.pendingApproval?.approvals).toEqual([]);

    // The real bob, through the app: accepted.
    const proof = await signAssertion(ASSERTION_KEY, { ...bob, via: 'slack' }, { kind: 'approve', target: releaseId });
    expect(await under.tollgate.releases.approve(releaseId, { approver: bob, proof })).toMatchObject({ remaining: 0 });
    expect(await under.tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
    await keepHistory(releaseId, 'forged-decisions-refused-then-approved');
  });
});

describe('a lane decision', () => {
  it('is answered with the reason when its proof does not hold, and the lane stays open; a proven one freezes it', async () => {
    const { releases } = under.tollgate;
    const freeze = { reason: 'audit', by: 'bob@example.com', at: new Date().toISOString() };
    await expect(releases.freeze('idp-lane', 'staging', freeze, 'made-up')).rejects.toThrow(/the proof is not a JWT/);
    expect((await releases.lane('idp-lane', 'staging')).policy.freeze).toBeUndefined();

    const bob = { id: 'bob@example.com', groups: ['release-managers'], via: 'slack' as const };
    const proof = await signAssertion(ASSERTION_KEY, bob, { kind: 'freeze', target: laneIdFor('idp-lane', 'staging') });
    await releases.freeze('idp-lane', 'staging', freeze, proof);
    expect((await releases.lane('idp-lane', 'staging')).policy.freeze).toMatchObject({
      by: 'bob@example.com',
      reason: 'audit',
    });
  });
});

describe('the HTTP API for people', () => {
  const decide = (releaseId: string, token: string, decision = 'approve') =>
    fetch(`${appUrl}/api/releases/${encodeURIComponent(releaseId)}/${decision}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ comment: 'over HTTP' }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as { error?: string } }));

  it('takes a valid token from the issuer, and refuses expired, wrong-audience, wrong-issuer and CI tokens', async () => {
    const { releaseId } = await under.tollgate.releases.start(productionSpec('idp-orders'), {
      id: 'alice@example.com',
      via: 'cli',
    });
    await waitForApproval(releaseId);
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;

    expect(await decide(releaseId, await issuer.mintIdToken('bob', { expiresAt: hourAgo }))).toEqual({
      status: 401,
      body: { error: expect.stringMatching(/the token has expired/) },
    });
    expect(await decide(releaseId, await issuer.mintIdToken('bob', { audience: 'another-app' }))).toEqual({
      status: 401,
      body: { error: 'the token was issued for another audience than Tollgate' },
    });
    expect(await decide(releaseId, await issuer.mintIdToken('bob', { issuer: 'https://evil.example.com' }))).toEqual({
      status: 401,
      body: { error: `the token was not issued by ${issuer.issuer}` },
    });
    expect(await decide(releaseId, CI_TOKEN)).toEqual({
      status: 403,
      body: { error: expect.stringMatching(/CI tokens start releases and never approve/) },
    });
    expect((await under.tollgate.releases.status(releaseId)).pendingApproval?.approvals).toEqual([]);

    expect(await decide(releaseId, await issuer.mintIdToken('alice'))).toEqual({
      status: 409,
      body: { error: expect.stringMatching(/four-eyes: alice@example.com started this production release/) },
    });
    expect(await decide(releaseId, await issuer.mintIdToken('bob'))).toMatchObject({
      status: 200,
      body: { by: 'bob@example.com', message: 'approved; the release moves on' },
    });
    const status = await under.tollgate.releases.status(releaseId);
    expect(status.decisions).toEqual([
      expect.objectContaining({ approver: 'bob@example.com', via: 'api', trust: 'verified' }),
    ]);
    expect(await under.tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });
  });
});

describe('local mode', () => {
  it('is refused for a production environment, even with a listed approver', async () => {
    const local = await startTollgate('identity-local');
    try {
      const { releaseId } = await local.tollgate.releases.start(productionSpec('idp-search'), {
        id: 'alice',
        via: 'cli',
      });
      await eventually('the release to wait for approval', async () =>
        (await local.tollgate.releases.status(releaseId)).pendingApproval ? true : undefined,
      );
      await expect(
        local.tollgate.releases.approve(releaseId, {
          approver: { id: 'bob', groups: ['release-managers'], via: 'cli' },
        }),
      ).rejects.toMatchObject({
        code: 'INVALID_ACTOR',
        message: expect.stringMatching(
          /local mode \(TOLLGATE_AUTH=none\) takes identities on trust, and production is marked production/,
        ),
      });
      // Nobody can decide on it in local mode: end it from Temporal, as an operator would.
      await local.tollgate.client.workflow.getHandle(releaseId).terminate('the test is over');
    } finally {
      await local.stop();
    }
  });
});
