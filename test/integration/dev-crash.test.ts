import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isRunning } from '../../src/devstack/process-liveness';
import { readStackFile } from '../../src/devstack/stack-file';
import { BIN, startDev, userEnv, type DevProcess } from '../support/dev-process';

const run = promisify(execFile);
const EXAMPLE = path.join(__dirname, '..', '..', 'examples', 'exec-canary');

let folder: string;
const devs: DevProcess[] = [];

beforeAll(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-dev-crash-'));
  // A project folder as people have them (mkdtemp makes it 700, which a root-run PostgreSQL's user cannot pass).
  fs.chmodSync(folder, 0o755);
  const example = path.join(folder, 'exec-canary');
  fs.cpSync(EXAMPLE, example, { recursive: true });
  // Every command also appends itself to state/commands: the record of how often each ran.
  for (const [script, line] of [
    ['deploy.sh', 'deploy $TOLLGATE_VERSION'],
    ['undeploy.sh', 'undeploy $TOLLGATE_VERSION'],
    ['set-weight.sh', 'setWeight $TOLLGATE_WEIGHT'],
  ]) {
    const file = path.join(example, script);
    fs.writeFileSync(
      file,
      fs
        .readFileSync(file, 'utf8')
        .replace('set -eu\n', `set -eu\nmkdir -p "$STATE_DIR"\necho "${line}" >> "$STATE_DIR/commands"\n`),
    );
  }
});

afterAll(async () => {
  for (const dev of devs) await dev.stop();
  fs.rmSync(folder, { recursive: true, force: true });
});

async function tollgate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd: folder,
      env: userEnv({ TOLLGATE_USER: 'alice' }),
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('tollgate dev after a crash', () => {
  it('comes back in the same folder after a SIGKILL mid-release, stops the leftovers, and the release ends Succeeded with every step once', async () => {
    const first = startDev(folder, userEnv());
    devs.push(first);
    await first.ready();
    const started = await tollgate('start', 'exec-canary/release.yaml', '--json');
    expect(started).toMatchObject({ code: 0 });
    const { releaseId } = JSON.parse(started.stdout) as { releaseId: string };

    // Mid-release: the release waits at its approval step, after deploy and three traffic steps.
    for (const deadline = Date.now() + 300_000; ;) {
      const status = await tollgate('status', releaseId, '--json');
      if (status.code === 0 && (JSON.parse(status.stdout) as { pendingApproval?: unknown }).pendingApproval) break;
      if (Date.now() > deadline) throw new Error(`never reached the approval: ${status.stdout}${status.stderr}`);
      await sleep(500);
    }
    const leftovers = readStackFile(path.join(folder, '.tollgate'))?.processes ?? [];
    expect(leftovers.map((p) => p.name).sort()).toEqual(['postgres', 'temporal']);

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    // What a crash leaves: its servers still run.
    for (const leftover of leftovers)
      expect({ ...leftover, running: isRunning(leftover.pid) }).toMatchObject({ running: true });

    const second = startDev(folder, userEnv());
    devs.push(second);
    await second.ready();
    expect(second.stderr()).toContain('stopping the postgres server');
    expect(second.stderr()).toContain('stopping the temporal server');
    for (const leftover of leftovers)
      expect({ ...leftover, running: isRunning(leftover.pid) }).toMatchObject({ running: false });

    const approved = await tollgate('approve', releaseId, '--as', 'bob');
    expect(approved).toMatchObject({ code: 0, stdout: 'approved; the release moves on\n' });
    const waited = await tollgate('wait', releaseId);
    expect(waited).toMatchObject({ code: 0, stdout: `${releaseId}: Succeeded\n` });
    expect(fs.readFileSync(path.join(folder, 'exec-canary', 'state', 'commands'), 'utf8')).toBe(
      ['deploy 1.1.0', 'setWeight 1', 'setWeight 10', 'setWeight 50', 'setWeight 100', ''].join('\n'),
    );
    // The audit log, kept in the same PostgreSQL data, has the whole release.
    const history = await tollgate('history', 'payments', '--json');
    expect(JSON.parse(history.stdout)).toEqual([expect.objectContaining({ releaseId, outcome: 'Succeeded' })]);

    expect(await second.stop()).toBe(0);
    const stopped = readStackFile(path.join(folder, '.tollgate'));
    expect(stopped).toBeUndefined();
  }, 900_000);
});
