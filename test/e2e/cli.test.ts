import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestDatabase } from '../support/database';
import { startTollgate, type TollgateUnderTest } from '../support/tollgate-under-test';
import { testEnv } from '../support/stack-env';
import type { ReleaseStatus } from '../../src/domain/release';
import { eventually } from '../support/eventually';
import type { TestWorker } from '../support/worker';

const run = promisify(execFile);
const BIN = path.join(__dirname, '..', '..', 'bin', 'tollgate');
const EXAMPLE = path.join(__dirname, '..', '..', 'examples', 'exec-canary');

let database: TestDatabase;
let tollgate: TestWorker;
let under: TollgateUnderTest;
let workdir: string;

beforeAll(async () => {
  under = await startTollgate('cli');
  tollgate = under.tollgate;
  database = under.database;
  workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-cli-'));
  fs.cpSync(EXAMPLE, path.join(workdir, 'exec-canary'), { recursive: true });
  // The example's timed pause becomes one that waits for `tollgate promote`, so the test knows
  // where the release stands when it approves too early, however slow the machine is.
  const spec = path.join(workdir, 'exec-canary', 'release.yaml');
  fs.writeFileSync(spec, fs.readFileSync(spec, 'utf8').replace('- pause: { duration: 5s }', '- pause: {}'));
});

afterAll(async () => {
  await under?.stop();
  fs.rmSync(workdir, { recursive: true, force: true });
});

/** Runs `tollgate ...` as a user would, against the test stack; never throws for a non-zero exit. */
async function tollgateCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd: workdir,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: testEnv('temporalAddress'),
        DATABASE_URL: database.url,
        TOLLGATE_TASK_QUEUE: tollgate.taskQueue,
        TOLLGATE_USER: 'alice',
        // Local mode: identities on trust (test/integration/identity.test.ts covers the real ones).
        TOLLGATE_AUTH: 'none',
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the tollgate command', () => {
  it('runs the example release from start to Succeeded: start, status, approve, wait, history, dora', async () => {
    const started = await tollgateCli('start', 'exec-canary/release.yaml', '--version', '1.1.0', '--json');
    expect(started.code).toBe(0);
    const { releaseId } = JSON.parse(started.stdout);
    expect(releaseId).toBe('payments:staging:1.1.0');

    const statusOf = async () => JSON.parse((await tollgateCli('status', releaseId, '--json')).stdout) as ReleaseStatus;
    // Held at the pause, before the approval step: approving now is refused with the reason.
    await eventually('the pause before the approval', async () =>
      (await statusOf()).hold?.reason === 'paused until someone promotes' ? true : undefined,
    );
    const early = await tollgateCli('approve', releaseId, '--as', 'bob');
    expect(early.code).toBe(1);
    expect(early.stderr).toBe('error: nothing awaits approval: the release is Shifting\n');
    expect((await tollgateCli('promote', releaseId)).code).toBe(0);
    await eventually('the approval step', async () => ((await statusOf()).pendingApproval ? true : undefined));
    const text = await tollgateCli('status', releaseId);
    expect(text.stdout).toMatch(/traffic {2}██████████░░░░░░░░░░ 50%/);
    expect(text.stdout).toMatch(/approval approval from bob, group:release-managers: 0\/1/);

    const approved = await tollgateCli('approve', releaseId, '--as', 'bob', '--comment', 'looks good');
    expect(approved).toMatchObject({ code: 0, stdout: 'approved; the release moves on\n' });
    const waited = await tollgateCli('wait', releaseId);
    expect(waited).toMatchObject({ code: 0, stdout: `${releaseId}: Succeeded\n` });
    expect(fs.readFileSync(path.join(workdir, 'exec-canary', 'state', 'weights'), 'utf8')).toBe('1.1.0 100 none\n');
    const done = await tollgateCli('status', releaseId);
    expect(done.stdout).toContain('  stable   1.1.0 (this release; before it none)\n');

    const history = await tollgateCli('history', 'payments');
    expect(history.stdout).toContain(releaseId);
    expect(history.stdout).toContain('Succeeded');
    const dora = await tollgateCli('dora', '--service', 'payments', '--json');
    expect(JSON.parse(dora.stdout).overall.deploymentFrequency.deployments).toBe(1);
  });

  it('exits 1 from `start --wait` when the release rolls back, printing why', async () => {
    const failing = path.join(workdir, 'exec-canary', 'failing.yaml');
    fs.writeFileSync(
      failing,
      fs
        .readFileSync(path.join(EXAMPLE, 'release.yaml'), 'utf8')
        .replace('service: payments', 'service: refunds-failing')
        .replace('command: ./smoke.sh', 'command: "exit 1"'),
    );
    const result = await tollgateCli('start', 'exec-canary/failing.yaml', '--version', '9.9.9', '--wait');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/refunds-failing:staging:9\.9\.9: RolledBack \(analysis failed: smoke: Failed/);
  });

  it('refuses an invalid spec with every problem and its path, starts nothing, and prints no stack trace', async () => {
    const bad = path.join(workdir, 'bad.yaml');
    fs.writeFileSync(
      bad,
      fs
        .readFileSync(path.join(EXAMPLE, 'release.yaml'), 'utf8')
        .replace('service: payments', 'service: refunds')
        .replace('- setWeight: 10', '- setWeight: 110')
        .replace('duration: 5s', 'duration: five seconds')
        .replace('templates: [smoke]', 'templates: [smoke, latency]'),
    );
    const result = await tollgateCli('start', bad);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('bad.yaml is not a valid release spec (3 problems)');
    expect(result.stderr).toContain('strategy.canary.steps.2.setWeight: setWeight must be between 0 and 100');
    expect(result.stderr).toContain('strategy.canary.steps.3.pause.duration: must be a duration');
    expect(result.stderr).toContain(
      'strategy.canary.steps.1.analysis.templates.1: analysis template "latency" is not defined',
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const listed = await tollgateCli('list', '--service', 'refunds', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });

  it("runs the schema safety check on a spec's migrations for a pull request, without a database", async () => {
    const service = path.join(workdir, 'users-service');
    fs.cpSync(path.join(__dirname, '..', '..', 'examples', 'schema-rename'), service, { recursive: true });
    const spec = path.join(service, 'release.yaml');
    fs.writeFileSync(
      spec,
      `${fs.readFileSync(path.join(EXAMPLE, 'release.yaml'), 'utf8')}database: { url: env:USERS_DATABASE_URL, migrations: ./migrations, contractApproval: { from: [bob] } }\n`,
    );
    const safe = await tollgateCli('validate', spec, '--schema');
    expect(safe).toMatchObject({ code: 0, stdout: expect.stringContaining('schema safety check passed') });

    fs.writeFileSync(
      path.join(service, 'migrations', '20261101000200_email_index.js'),
      "exports.phase = 'expand';\nexports.up = (knex) => knex.raw('CREATE INDEX users_primary_email ON users (primary_email)');\n",
    );
    const unsafe = await tollgateCli('validate', spec, '--schema', '--since', '20261101000200');
    expect(unsafe.code).toBe(1);
    expect(unsafe.stderr).toContain('the schema safety check refused 1 statement(s)');
    expect(unsafe.stderr).toContain(
      '20261101000200_email_index.js: `CREATE INDEX users_primary_email ON users (primary_email)`',
    );
    expect(unsafe.stderr).toContain('instead: CREATE INDEX CONCURRENTLY IF NOT EXISTS');
    expect(unsafe.stderr).not.toMatch(/\n\s+at /);
  });

  it('answers in one line when Temporal cannot be reached', async () => {
    const { code, stderr } = await run(process.execPath, [BIN, 'status', 'anything'], {
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: cannot reach Temporal at 127\.0\.0\.1:1 .*`tollgate dev` starts a local one/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says which configuration is wrong and how to fix it', async () => {
    const { code, stderr } = await run(process.execPath, [BIN, 'worker'], {
      env: { ...process.env, TEMPORAL_ADDRESS: 'not an address', DATABASE_URL: 'mysql://x' },
      timeout: 30_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(code).toBe(1);
    expect(stderr).toContain('TEMPORAL_ADDRESS: must be host:port');
    expect(stderr).toContain('DATABASE_URL: must be a postgres:// URL');
  });

  it('prints its version', async () => {
    const version = (
      JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
    ).version;
    expect(await tollgateCli('--version')).toMatchObject({ code: 0, stdout: `tollgate ${version}\n` });
  });

  it('lists releases under a header, in columns that line up', async () => {
    const listed = await tollgateCli('list', '--service', 'payments');
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RELEASE +STAGE +TRAFFIC +STARTED BY {2,}STARTED$/);
    expect(lines[1]).toMatch(/^payments:staging:1\.1\.0 +Succeeded +█+ 100% +alice +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    for (const title of ['STAGE', 'TRAFFIC', 'STARTED BY', 'STARTED'])
      for (const line of lines.slice(1)) expect(line[lines[0].indexOf(title) - 1]).toBe(' ');
  });

  it('says a release started into a frozen lane is queued behind the freeze, and why, once', async () => {
    const frozen = await tollgateCli('freeze', 'payments-frozen', 'staging', '--reason', 'quarter-end close');
    expect(frozen.code).toBe(0);
    const spec = path.join(workdir, 'exec-canary', 'frozen.yaml');
    fs.writeFileSync(
      spec,
      fs
        .readFileSync(path.join(EXAMPLE, 'release.yaml'), 'utf8')
        .replace('service: payments', 'service: payments-frozen'),
    );
    const started = await tollgateCli('start', 'exec-canary/frozen.yaml');
    expect(started.code).toBe(0);
    expect(started.stdout).toContain('started payments-frozen:staging:1.1.0\n');
    expect(started.stdout).toContain(
      'queued: lane frozen by alice: quarter-end close; it starts by itself when the lane opens (`tollgate unfreeze payments-frozen staging` lifts the freeze)\n',
    );
    let status = '';
    for (const deadline = Date.now() + 60_000; !status.includes('holding');) {
      status = (await tollgateCli('status', 'payments-frozen:staging:1.1.0')).stdout;
      if (Date.now() > deadline) throw new Error(`never held: ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect({ status, times: status.split('quarter-end close').length - 1 }).toMatchObject({ times: 1 });
    expect(status).toMatch(/\n {2}holding {2}lane frozen by alice: quarter-end close, since \d{4}-\d\d-\d\dT/);
    await tollgateCli('abort', 'payments-frozen:staging:1.1.0', '--reason', 'test over');
  });

  it('says a spec file that does not exist is not found', async () => {
    const missing = await tollgateCli('validate', 'exec-canary/relase.yaml');
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe(
      `error: exec-canary/relase.yaml: file not found (looked for ${path.join(fs.realpathSync(workdir), 'exec-canary', 'relase.yaml')})\n`,
    );
  });

  it('starts no worker when its database cannot be reached, and says so in one line', async () => {
    const { code, stderr } = await run(process.execPath, [BIN, 'worker'], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: testEnv('temporalAddress'),
        DATABASE_URL: 'postgres://tollgate:secret@127.0.0.1:1/tollgate',
        TOLLGATE_AUTH: 'none',
      },
      timeout: 60_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(code).toBe(1);
    expect(stderr).toBe(
      "error: cannot reach Tollgate's PostgreSQL at 127.0.0.1:1/tollgate (ECONNREFUSED); is it running, and is DATABASE_URL right?\n",
    );
  });
});
