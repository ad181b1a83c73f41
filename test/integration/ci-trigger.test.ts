import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import { migrateToLatest } from '../../src/audit/database';
import { parseApiTokens } from '../../src/ci/api-tokens';
import { RateLimiter } from '../../src/ci/rate-limiter';
import { PipelineClient } from '../../src/client/pipeline-client';
import { createReleaseApi } from '../../src/ci/release-api';
import { SpecCatalogue } from '../../src/specs/catalogue';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Journal } from '../support/exec-spec';
import { startTestWorker, type TestWorker } from '../support/worker';
import { eventually } from '../support/eventually';

const CHECKOUT_TOKEN = 'checkout-ci-token-0123456789abcdef';
const OTHER_TOKEN = 'search-ci-token-0123456789abcdef';

let clockFrozenAt: number | undefined;
let database: TestDatabase;
let tollgate: TestWorker;
let journal: Journal;
let server: http.Server;
let base: string;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  tollgate = await startTestWorker({ db: database.db, taskQueue: `ci-${Date.now()}` });
  journal = new Journal();
  // A catalogue with one reviewed spec; the version comes from CI.
  const spec = {
    service: 'checkout',
    environment: 'staging',
    deploy: {
      provider: 'exec',
      deploy: journal.append('deploy $TOLLGATE_VERSION'),
      undeploy: journal.append('undeploy $TOLLGATE_VERSION'),
      env: { JOURNAL: journal.file },
    },
    traffic: {
      provider: 'exec',
      setWeight: journal.append('setWeight $TOLLGATE_WEIGHT'),
      env: { JOURNAL: journal.file },
    },
    strategy: { canary: { steps: [{ setWeight: 50 }, { pause: { duration: '1s' } }, { setWeight: 100 }] } },
  };
  journal.putInCatalogue(spec);

  const api = createReleaseApi({
    releases: async () => tollgate.releases,
    catalogue: new SpecCatalogue(journal.catalogue),
    tokens: parseApiTokens(
      `checkout-ci:${CHECKOUT_TOKEN}:checkout/staging,checkout/production search-ci:${OTHER_TOKEN}:search/*`,
    ),
    // The limiter's clock stands still in the rate-limit test, so a slow machine cannot refill it mid-test.
    limiter: new RateLimiter(60, 40, () => clockFrozenAt ?? Date.now()),
    log: pino({ level: 'silent' }),
  });
  server = http.createServer((req, res) => void api(req, res).then((handled) => handled || res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.close();
  await tollgate?.stop();
  await database?.drop();
  journal?.remove();
});

async function call(method: string, route: string, token?: string, body?: unknown) {
  return callWith(base, method, route, token ? `Bearer ${token}` : undefined, body);
}

async function callWith(server: string, method: string, route: string, authorization?: string, body?: unknown) {
  const response = await fetch(`${server}${route}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(authorization ? { Authorization: authorization } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

const request = {
  service: 'checkout',
  environment: 'staging',
  version: '3.1.0',
  commit: { sha: 'a1b2c3d', committedAt: '2026-11-22T09:00:00Z' },
  triggeredBy: 'octocat',
};

describe('the CI trigger', () => {
  it('starts a release for a valid token, once for the same commit sent twice, and reports where it stands', async () => {
    const first = await call('POST', '/api/releases', CHECKOUT_TOKEN, request);
    expect(first).toMatchObject({ status: 201, body: { releaseId: 'checkout:staging:3.1.0', started: true } });
    const again = await call('POST', '/api/releases', CHECKOUT_TOKEN, request);
    expect(again).toMatchObject({ status: 200, body: { releaseId: 'checkout:staging:3.1.0', started: false } });

    const done = await eventually('the release to end', async () => {
      const { body } = await call('GET', '/api/releases/checkout%3Astaging%3A3.1.0', CHECKOUT_TOKEN);
      return body.done ? body : undefined;
    });
    expect(done).toMatchObject({ outcome: 'Succeeded', weight: 100 });
    expect(journal.lines().filter((line) => line.startsWith('deploy'))).toEqual(['deploy 3.1.0']);
    const row = await database.db('releases').where({ release_id: 'checkout:staging:3.1.0' }).first();
    expect(row).toMatchObject({ initiator: 'ci:checkout-ci', commit_sha: 'a1b2c3d' });
  });

  it('refuses a token scoped to another service, and a missing or unknown token, starting nothing', async () => {
    const other = await call('POST', '/api/releases', OTHER_TOKEN, { ...request, version: '3.2.0' });
    expect(other).toMatchObject({
      status: 403,
      body: { error: 'token search-ci may not release checkout to staging' },
    });
    expect(await call('POST', '/api/releases', undefined, { ...request, version: '3.2.0' })).toMatchObject({
      status: 401,
      body: { error: expect.stringMatching(/missing bearer token/) },
    });
    expect(
      await call('POST', '/api/releases', 'guessed-token-guessed-token', { ...request, version: '3.2.0' }),
    ).toMatchObject({ status: 401, body: { error: 'unknown token' } });
    await expect(tollgate.releases.status('checkout:staging:3.2.0')).rejects.toThrow(/no release or lane called/);
  });

  it('explains a malformed request and an unknown lane', async () => {
    const bad = await call('POST', '/api/releases', CHECKOUT_TOKEN, {
      service: 'checkout',
      environment: 'staging',
      version: 'not a version!',
      extra: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^version: must be a version/),
        expect.stringMatching(/unrecognized key/i),
      ]),
    );
    const unknown = await call('POST', '/api/releases', CHECKOUT_TOKEN, {
      ...request,
      environment: 'production',
      version: '3.2.0',
    });
    expect(unknown).toMatchObject({
      status: 404,
      body: {
        error: expect.stringMatching(
          /no release spec for checkout in production; the catalogue has checkout \(staging\)/,
        ),
      },
    });
  });

  it('refuses while the lane is frozen, with the freeze reason', async () => {
    await tollgate.releases.freeze('checkout', 'staging', {
      reason: 'quarter-end close',
      by: 'sre',
      at: new Date().toISOString(),
    });
    // The lane takes a freeze once the worker has checked who sent it.
    await eventually('the checkout lane frozen', async () =>
      (await tollgate.releases.lane('checkout', 'staging')).policy.freeze ? true : undefined,
    );
    const refused = await call('POST', '/api/releases', CHECKOUT_TOKEN, { ...request, version: '3.3.0' });
    expect(refused).toMatchObject({
      status: 423,
      body: { error: 'checkout/staging: lane frozen by sre: quarter-end close' },
    });
    await tollgate.releases.unfreeze('checkout', 'staging', 'sre', 'done');
  });

  it('slows down a caller that sends too much', async () => {
    clockFrozenAt = Date.now();
    const statuses: number[] = [];
    try {
      for (let i = 0; i < 45; i++)
        statuses.push((await call('GET', '/api/releases/checkout%3Astaging%3A3.1.0', OTHER_TOKEN)).status);
    } finally {
      clockFrozenAt = undefined;
    }
    // A burst of 40 at most (fewer if earlier tests used some), then "too many requests".
    expect(statuses.slice(40)).toEqual([429, 429, 429, 429, 429]);
  });

  it('takes the bearer scheme in any case, as RFC 7235 says', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer'])
      expect(
        await callWith(base, 'GET', '/api/releases/checkout%3Astaging%3A3.1.0', `${scheme} ${CHECKOUT_TOKEN}`),
      ).toMatchObject({ status: 200, body: { releaseId: 'checkout:staging:3.1.0' } });
  });

  it('slows down a client that keeps presenting wrong tokens, before looking at its next token', async () => {
    // An API of its own, so the budget it spends is not the one the other tests share.
    let now = Date.now();
    const api = createReleaseApi({
      releases: async () => tollgate.releases,
      catalogue: new SpecCatalogue(journal.catalogue),
      tokens: parseApiTokens(`checkout-ci:${CHECKOUT_TOKEN}:checkout/staging`),
      limiter: new RateLimiter(60, 40),
      authFailures: new RateLimiter(10, 10, () => now),
      log: pino({ level: 'silent' }),
    });
    const guarded = http.createServer(
      (req, res) => void api(req, res).then((handled) => handled || res.writeHead(404).end()),
    );
    await new Promise<void>((resolve) => guarded.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(guarded.address() as AddressInfo).port}`;
    const route = '/api/releases/checkout%3Astaging%3A3.1.0';
    try {
      const guesses: number[] = [];
      for (let i = 0; i < 10; i++)
        guesses.push((await callWith(url, 'GET', route, `Bearer guess-${i}-0123456789`)).status);
      expect(guesses).toEqual(Array(10).fill(401));
      const refused = await callWith(url, 'GET', route, 'Bearer guess-10-0123456789');
      expect(refused).toMatchObject({
        status: 429,
        retryAfter: '6',
        body: { error: expect.stringMatching(/too many failed authentications/) },
      });
      // Even the right token waits: a guesser must not learn which guess was right.
      expect((await callWith(url, 'GET', route, `Bearer ${CHECKOUT_TOKEN}`)).status).toBe(429);
      now += 6_000; // the budget refills: one more attempt
      expect(await callWith(url, 'GET', route, `Bearer ${CHECKOUT_TOKEN}`)).toMatchObject({ status: 200 });
    } finally {
      guarded.close();
    }
  });
});

describe('POST /api/pipelines', () => {
  it('starts a run of the catalogue pipeline for a commit, finds it again on a duplicate, and says how it ended', async () => {
    const pipelineDir = path.join(journal.catalogue, 'checkout', 'pipelines');
    fs.mkdirSync(pipelineDir, { recursive: true });
    fs.writeFileSync(
      path.join(pipelineDir, 'checkout.yaml'),
      YAML.stringify({
        service: 'checkout',
        release: '../staging.yaml',
        environments: [{ name: 'staging' }, { name: 'production' }],
      }),
    );
    const body = {
      service: 'checkout',
      version: '4.0.0',
      commit: { sha: 'c1c2c3d', committedAt: '2026-11-22T10:00:00Z' },
    };

    const started = await call('POST', '/api/pipelines', CHECKOUT_TOKEN, body);
    expect(started).toMatchObject({
      status: 201,
      body: { pipelineId: 'pipeline:checkout:c1c2c3d', started: true, environments: ['staging', 'production'] },
    });
    const again = await call('POST', '/api/pipelines', CHECKOUT_TOKEN, body);
    expect(again).toMatchObject({ status: 200, body: { pipelineId: 'pipeline:checkout:c1c2c3d', started: false } });

    const result = await new PipelineClient(tollgate.client, tollgate.taskQueue).result('pipeline:checkout:c1c2c3d');
    expect(result.outcome).toBe('Succeeded');
    const status = await call('GET', '/api/pipelines/pipeline%3Acheckout%3Ac1c2c3d', CHECKOUT_TOKEN);
    expect(status).toMatchObject({
      status: 200,
      body: {
        done: true,
        outcome: 'Succeeded',
        environments: [
          { environment: 'staging', state: 'Succeeded', releaseId: 'checkout:staging:4.0.0' },
          { environment: 'production', state: 'Succeeded', releaseId: 'checkout:production:4.0.0' },
        ],
      },
    });
    const missing = await call('POST', '/api/pipelines', CHECKOUT_TOKEN, { ...body, pipeline: 'nightly' });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(
      /no pipeline nightly for checkout; put it in the catalogue as checkout\/pipelines\/nightly\.yaml/,
    );
  });
});
