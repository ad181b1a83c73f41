import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { buildWorkflowBundle } from '../src/workers/bundle';
import { openDatabase, migrateToLatest } from '../src/audit/database';
import { ReleaseClient } from '../src/client/release-client';
import { startLocalStack } from '../src/devstack/local-stack';
import { findOrInstallTemporalCli } from '../src/devstack/temporal-cli';
import { validateReleaseSpec } from '../src/domain/parse-spec';

/**
 * npm run bench:cli — how long `bin/tollgate` takes, start to exit, as a person runs it:
 * `--help`, `--version`, `validate <spec>`, and `status <release>` against a real Temporal dev
 * server (its round trip included), each beside the Temporal CLI's own `temporal --version` run
 * in turn with it, as the reference for "answers at once" on this machine.
 * Goals (issue 13): --help, --version, validate under 300 ms; status under 500 ms.
 * Flags: --runs N (default 15).
 */
const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const RUNS = arg('runs', 15);
const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'tollgate');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * CPU milliseconds (user + system) of this process's finished children, from /proc/self/stat
 * (cutime, cstime; 10 ms ticks): unlike wall time, it does not grow when the machine is busy.
 */
function childrenCpuMillis(): number {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

interface Run {
  wall: number;
  cpu: number;
}

/** One run, start to exit; throws if it fails, so a broken command is never timed. */
function timeRun(command: string, args: string[], env: NodeJS.ProcessEnv): Run {
  const cpuBefore = childrenCpuMillis();
  const begun = process.hrtime.bigint();
  const result = spawnSync(command, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - begun) / 1e6;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.toString()}`);
  return { wall, cpu: childrenCpuMillis() - cpuBefore };
}

async function main(): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const temporalCli = await findOrInstallTemporalCli();
  if (!temporalCli) throw new Error('the Temporal CLI is needed as the reference; set TEMPORAL_CLI or install Go');
  const stack = await startLocalStack({
    persistent: false,
    stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-')),
  });
  const db = openDatabase(stack.databaseUrl);
  await migrateToLatest(db);
  const bundlePath = path.join(os.tmpdir(), `tollgate-bench-bundle-${process.pid}.js`);
  fs.writeFileSync(bundlePath, await buildWorkflowBundle());
  const taskQueue = `bench-cli-${Date.now()}`;
  const workerEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: stack.temporal.address,
    DATABASE_URL: stack.databaseUrl,
    TOLLGATE_TASK_QUEUE: taskQueue,
    TOLLGATE_WORKFLOW_BUNDLE: bundlePath,
  };
  const worker = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'instant-worker.ts')], {
    env: workerEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) =>
    worker.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('worker running') && resolve()),
  );
  const releases = new ReleaseClient(
    new Client({ connection: await Connection.connect({ address: stack.temporal.address }) }),
    taskQueue,
  );
  try {
    // A release waiting at an approval: `status` shows it whole (steps, approval, events).
    const spec = validateReleaseSpec(
      {
        service: 'bench-cli',
        environment: 'bench',
        version: '1.0.0',
        deploy: { provider: 'exec', deploy: 'true', undeploy: 'true' },
        traffic: { provider: 'exec', setWeight: 'true' },
        strategy: { canary: { steps: [{ setWeight: 10 }, { approval: { from: ['nobody'] } }] } },
      },
      'bench',
    );
    const { releaseId } = await releases.start(spec, { id: 'bench', via: 'cli' });
    for (const deadline = Date.now() + 120_000; !(await releases.status(releaseId)).pendingApproval;) {
      if (Date.now() > deadline) throw new Error(`${releaseId} never reached its approval`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const env = { ...workerEnv, TOLLGATE_USER: 'bench' };
    // The first run compiles the sources if they changed since dist/ was built: not what is measured.
    timeRun(process.execPath, [BIN, '--version'], env);
    const commands: Array<{ label: string; args: string[]; goal: number }> = [
      { label: 'tollgate --help', args: ['--help'], goal: 300 },
      { label: 'tollgate --version', args: ['--version'], goal: 300 },
      { label: 'tollgate validate <spec>', args: ['validate', 'examples/exec-canary/release.yaml'], goal: 300 },
      { label: 'tollgate status <release>', args: ['status', releaseId], goal: 500 },
    ];
    say(
      `tollgate CLI benchmark: ${RUNS} runs of each, in turn with the reference \`temporal --version\` ` +
        `(${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the start)`,
    );
    say('wall: start to exit (median, min); cpu: user + system of the process (median); goal: wall on an idle machine');
    const ms = (value: number) => `${value.toFixed(0)} ms`.padStart(8);
    say(
      `${'command'.padEnd(26)} ${'wall'.padStart(8)} ${'min'.padStart(8)} ${'cpu'.padStart(8)} ${'goal'.padStart(8)}  | reference: ${'wall'.padStart(8)} ${'cpu'.padStart(8)}  ratio (wall)`,
    );
    for (const command of commands) {
      const ours: Run[] = [];
      const reference: Run[] = [];
      for (let i = 0; i < RUNS; i++) {
        ours.push(timeRun(process.execPath, [BIN, ...command.args], env));
        reference.push(timeRun(temporalCli.path, ['--version'], env));
      }
      const wall = median(ours.map((run) => run.wall));
      const referenceWall = median(reference.map((run) => run.wall));
      say(
        `${command.label.padEnd(26)} ${ms(wall)} ${ms(Math.min(...ours.map((run) => run.wall)))} ${ms(median(ours.map((run) => run.cpu)))} ${ms(command.goal)}  |            ${ms(referenceWall)} ${ms(median(reference.map((run) => run.cpu)))}  ${(wall / referenceWall).toFixed(1)}x`,
      );
    }
  } finally {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.on('exit', resolve));
    await releases.client.connection.close();
    await db.destroy();
    await stack.stop();
    fs.rmSync(bundlePath, { force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
