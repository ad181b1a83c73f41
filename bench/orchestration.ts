import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { buildWorkflowBundle } from '../src/workers/bundle';
import { openDatabase, migrateToLatest } from '../src/audit/database';
import { ReleaseClient } from '../src/client/release-client';
import { startLocalStack } from '../src/devstack/local-stack';
import { validateReleaseSpec } from '../src/domain/parse-spec';
import type { ReleaseSpecInput } from '../src/domain/spec';

/**
 * npm run bench:orchestration — what Tollgate itself costs, on providers that take no time:
 *   1. overhead per step (p50, p95) of 8-step releases run one at a time;
 *   2. releases completed per second with 200 in flight;
 *   3. the worker's peak RSS with 1,000 releases waiting at an approval.
 * Flags: --sequential N (default 30), --in-flight N (200), --waiting N (1000).
 */
const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const SEQUENTIAL = arg('sequential', 30);
const IN_FLIGHT = arg('in-flight', 200);
const WAITING = arg('waiting', 1000);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** The spec names exec commands, but the bench worker's providers ignore them and return at once. */
function spec(service: string, steps: NonNullable<ReleaseSpecInput['strategy']['canary']>['steps']) {
  return validateReleaseSpec(
    {
      service,
      environment: 'bench',
      version: '1.0.0',
      deploy: { provider: 'exec', deploy: 'true', undeploy: 'true' },
      traffic: { provider: 'exec', setWeight: 'true' },
      strategy: { canary: { steps } },
    },
    'bench',
  );
}
const EIGHT_STEPS = [10, 20, 30, 40, 50, 60, 70, 100].map((setWeight) => ({ setWeight }));

async function main(): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const stack = await startLocalStack({
    persistent: false,
    stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-')),
  });
  const db = openDatabase(stack.databaseUrl);
  await migrateToLatest(db);
  const bundlePath = path.join(os.tmpdir(), `tollgate-bench-bundle-${process.pid}.js`);
  fs.writeFileSync(bundlePath, await buildWorkflowBundle());
  const taskQueue = `bench-${Date.now()}`;
  const worker = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'instant-worker.ts')], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporal.address,
      DATABASE_URL: stack.databaseUrl,
      TOLLGATE_TASK_QUEUE: taskQueue,
      TOLLGATE_WORKFLOW_BUNDLE: bundlePath,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) =>
    worker.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('worker running') && resolve()),
  );
  const memoryMiB = (field: 'VmHWM' | 'VmRSS') => {
    const status = fs.readFileSync(`/proc/${worker.pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  };
  const peakRssMiB = () => memoryMiB('VmHWM');
  const releases = new ReleaseClient(
    new Client({ connection: await Connection.connect({ address: stack.temporal.address }) }),
    taskQueue,
  );
  const who = { id: 'bench', via: 'cli' as const };

  try {
    say(`Tollgate orchestration benchmark (${os.cpus().length} cores, ${os.cpus()[0].model})`);
    // 1. Per-step overhead: consecutive step starts of a release running alone.
    const perStep: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      const { releaseId } = await releases.start(spec(`seq-${i}`, EIGHT_STEPS), who);
      await releases.result(releaseId);
      const starts = (await releases.status(releaseId)).events
        .filter((event) => event.kind === 'step' && event.message.startsWith('step '))
        .map((event) => Date.parse(event.at));
      for (let s = 1; s < starts.length; s++) perStep.push(starts[s] - starts[s - 1]);
    }
    say(
      `1. overhead per step, ${SEQUENTIAL} releases of 8 steps one at a time: p50 ${percentile(perStep, 50)} ms, p95 ${percentile(perStep, 95)} ms (goal: p50 < 50 ms)`,
    );

    // 2. Throughput with 200 in flight (different services: a lane runs one release at a time).
    const begun = Date.now();
    const started = await Promise.all(
      Array.from({ length: IN_FLIGHT }, (_, i) => releases.start(spec(`flight-${i}`, EIGHT_STEPS), who)),
    );
    await Promise.all(started.map(({ releaseId }) => releases.result(releaseId)));
    const seconds = (Date.now() - begun) / 1000;
    say(
      `2. ${IN_FLIGHT} releases of 8 steps in flight: all Succeeded in ${seconds.toFixed(1)} s, ${(IN_FLIGHT / seconds).toFixed(1)} releases/s`,
    );

    // 3. Memory with 1,000 releases waiting for a person.
    const rssBefore = peakRssMiB();
    for (let i = 0; i < WAITING; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, WAITING - i) }, (_, j) =>
          releases.start(spec(`wait-${i + j}`, [{ setWeight: 10 }, { approval: { from: ['nobody'] } }]), who),
        ),
      );
    }
    const deadline = Date.now() + 10 * 60_000;
    let waiting = 0;
    while (Date.now() < deadline) {
      waiting = (
        await releases.client.workflow.count(
          `WorkflowType = 'releaseWorkflow' AND ReleaseService STARTS_WITH 'wait-' AND ReleaseWeight = 10 AND ExecutionStatus = 'Running'`,
        )
      ).count;
      if (waiting >= WAITING) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    say(
      `3. ${waiting} releases waiting at an approval: worker peak RSS ${peakRssMiB().toFixed(0)} MiB, ` +
        `RSS now ${memoryMiB('VmRSS').toFixed(0)} MiB (peak before them ${rssBefore.toFixed(0)} MiB; goal: peak < 1024 MiB)`,
    );
  } finally {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.on('exit', resolve));
    await releases.client.connection.close();
    await db.destroy();
    await stack.stop();
    fs.rmSync(bundlePath, { force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
