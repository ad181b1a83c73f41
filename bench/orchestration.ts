import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { buildWorkflowBundle } from '../src/workers/bundle';
import { openDatabase, migrateToLatest } from '../src/audit/database';
import { ReleaseClient } from '../src/client/release-client';
import { startLocalStack } from '../src/devstack/local-stack';
import { validateReleaseSpec } from '../src/domain/parse-spec';
import type { ReleaseSpecInput } from '../src/domain/spec';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../src/workers/worker';
import type { bareWorkflow } from './bare-workflow';
import { cpuByProgram, cpuSince } from './process-cpu';
import { required } from '../src/domain/required';

/**
 * npm run bench:orchestration — what Tollgate itself costs, on providers that take no time, beside
 * bare Temporal on the same dev server and the same worker options (a workflow of 8 no-op
 * activities, bench/bare-workflow.ts), in the same run:
 *   1. time per step (p50, p95) of 8-step releases run one at a time, Tollgate and bare
 *      interleaved, the ratio, and where a step's time goes (from the workflows' histories);
 *   2. releases completed per second with 200 in flight (and bare workflows per second), with the
 *      CPU each process used and the history each release wrote;
 *   3. the worker's RSS per cached workflow, with 1,000 releases waiting at an approval.
 * Flags: --sequential N (default 30), --in-flight N (200), --waiting N (1000), --profile DIR (the
 * worker's CPU profiles).
 * TOLLGATE_MAX_CACHED_WORKFLOWS sizes the worker's cache (default 500); TOLLGATE_DEV_SERVER_ARGS
 * adds dev server flags (e.g. "--dynamic-config-value history.transferProcessorMaxPollRPS=20").
 */
const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const SEQUENTIAL = arg('sequential', 30);
const IN_FLIGHT = arg('in-flight', 200);
const WAITING = arg('waiting', 1000);
const STEPS = 8;
const CACHE = Number(process.env.TOLLGATE_MAX_CACHED_WORKFLOWS ?? DEFAULT_MAX_CACHED_WORKFLOWS);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

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

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = {
  WorkflowTaskStarted: 6,
  WorkflowTaskCompleted: 7,
  ActivityTaskScheduled: 10,
  ActivityTaskStarted: 11,
  ActivityTaskCompleted: 12,
} as const;

/** An event's server time in ms, to the microsecond: workflow clocks tick in whole ms, too coarse for a 6 ms step. */
const millisOf = (event: HistoryEvent) =>
  Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;

/** Where one step's time goes, in ms, read from the history (server timestamps). */
interface StepPhases {
  /** The whole step: its activity starting to the next step's starting. */
  cycle: number;
  /** The activity, from its start to its completion being recorded. */
  activity: number;
  /** From the completion to the workflow task that reads it being picked up (history + matching). */
  toWorkflowTask: number;
  /** The workflow task on the worker, until its completion is recorded. */
  workflowTask: number;
  /** From there to the next step's activity starting (0 with eager activities). */
  toNextActivity: number;
  /** Workflow tasks and history events from one step's activity start to the next's. */
  workflowTasks: number;
  events: number;
}

/** The phases between consecutive activities of `activityType` (the steps). */
function stepPhases(events: HistoryEvent[], activityType: string): StepPhases[] {
  const stepScheduled = new Set(
    events
      .filter(
        (event) =>
          Number(event.eventType) === EventType.ActivityTaskScheduled &&
          event.activityTaskScheduledEventAttributes?.activityType?.name === activityType,
      )
      .map((event) => Number(event.eventId)),
  );
  const startedIndex = events
    .map((event, index) => ({ event, index }))
    .filter(
      ({ event }) =>
        Number(event.eventType) === EventType.ActivityTaskStarted &&
        stepScheduled.has(Number(event.activityTaskStartedEventAttributes?.scheduledEventId)),
    )
    .map(({ index }) => index);
  const phases: StepPhases[] = [];
  for (let s = 0; s + 1 < startedIndex.length; s++) {
    const from = startedIndex[s];
    const to = startedIndex[s + 1];
    const between = events.slice(from, to + 1);
    const scheduledId = Number(events[from].activityTaskStartedEventAttributes?.scheduledEventId);
    const completed = between.find(
      (event) =>
        Number(event.eventType) === EventType.ActivityTaskCompleted &&
        Number(event.activityTaskCompletedEventAttributes?.scheduledEventId) === scheduledId,
    );
    const completedIndex = completed ? between.indexOf(completed) : -1;
    const wftStarted = between.find(
      (event, index) => index > completedIndex && Number(event.eventType) === EventType.WorkflowTaskStarted,
    );
    const wftCompleted = between.find(
      (event, index) => index > completedIndex && Number(event.eventType) === EventType.WorkflowTaskCompleted,
    );
    if (!completed || !wftStarted || !wftCompleted) continue;
    phases.push({
      cycle: millisOf(events[to]) - millisOf(events[from]),
      activity: millisOf(completed) - millisOf(events[from]),
      toWorkflowTask: millisOf(wftStarted) - millisOf(completed),
      workflowTask: millisOf(wftCompleted) - millisOf(wftStarted),
      toNextActivity: millisOf(events[to]) - millisOf(wftCompleted),
      workflowTasks: between.filter((event) => Number(event.eventType) === EventType.WorkflowTaskCompleted).length,
      events: to - from,
    });
  }
  return phases;
}

function describePhases(phases: StepPhases[]): string {
  const avg = (key: keyof StepPhases) => mean(phases.map((phase) => phase[key]));
  return (
    `activity ${avg('activity').toFixed(1)} ms, completion → workflow task ${avg('toWorkflowTask').toFixed(1)} ms, ` +
    `workflow task ${avg('workflowTask').toFixed(1)} ms, → next activity ${avg('toNextActivity').toFixed(1)} ms; ` +
    `${avg('workflowTasks').toFixed(1)} workflow tasks and ${avg('events').toFixed(1)} events per step`
  );
}

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
  const bareQueue = `${taskQueue}-bare`;
  // --profile DIR: the worker's CPU profiles, one per thread (the workflows run in their own), for Chrome's DevTools.
  const profileDir = process.argv.includes('--profile')
    ? process.argv[process.argv.indexOf('--profile') + 1]
    : undefined;
  const profiling = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const worker = spawn(process.execPath, [...profiling, '--import', 'tsx', path.join(__dirname, 'instant-worker.ts')], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporal.address,
      DATABASE_URL: stack.databaseUrl,
      TOLLGATE_TASK_QUEUE: taskQueue,
      TOLLGATE_WORKFLOW_BUNDLE: bundlePath,
      TOLLGATE_MAX_CACHED_WORKFLOWS: String(CACHE),
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  /** Milliseconds inside each activity type since the last call, from the worker. */
  const activityTimings = () =>
    new Promise<Record<string, number[]>>((resolve) => {
      worker.once('message', (message: { activityMs: Record<string, number[]> }) => resolve(message.activityMs));
      worker.send('activity-timings');
    });
  await new Promise<void>((resolve) =>
    required(worker.stdout, 'worker stdout').on(
      'data',
      (chunk: Buffer) => chunk.toString().includes('worker running') && resolve(),
    ),
  );
  const memoryMiB = (field: 'VmHWM' | 'VmRSS') => {
    const status = fs.readFileSync(`/proc/${worker.pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  };
  const releases = new ReleaseClient(
    new Client({ connection: await Connection.connect({ address: stack.temporal.address }) }),
    taskQueue,
  );
  const temporalClient = releases.client;
  const who = { id: 'bench', via: 'cli' as const };
  let bareCount = 0;
  const startBare = () =>
    temporalClient.workflow.start<typeof bareWorkflow>('bareWorkflow', {
      taskQueue: bareQueue,
      workflowId: `bare-${Date.now()}-${bareCount++}`,
      args: [STEPS],
    });

  try {
    say(`Tollgate orchestration benchmark (${os.cpus().length} cores, ${os.cpus()[0].model}), worker cache ${CACHE}`);
    say(`dev server extra flags: ${process.env.TOLLGATE_DEV_SERVER_ARGS || '(none)'}`);
    // Warm-up, unreported: the first workflows of each kind pay for the workers' first polls and caches.
    await releases.result((await releases.start(spec('warm-up', EIGHT_STEPS), who)).releaseId);
    await (await startBare()).result();
    await activityTimings();

    // 1. Per step: consecutive step starts of a workflow running alone, Tollgate and bare interleaved.
    const tollgateClock: number[] = [];
    const bareClock: number[] = [];
    const tollgatePhases: StepPhases[] = [];
    const barePhases: StepPhases[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      const { releaseId } = await releases.start(spec(`seq-${i}`, EIGHT_STEPS), who);
      await releases.result(releaseId);
      const starts = (await releases.status(releaseId)).events
        .filter((event) => event.kind === 'step' && event.message.startsWith('step '))
        .map((event) => Date.parse(event.at));
      for (let s = 1; s < starts.length; s++) tollgateClock.push(starts[s] - starts[s - 1]);
      const history = await temporalClient.workflow.getHandle(releaseId).fetchHistory();
      tollgatePhases.push(...stepPhases(history.events ?? [], 'setWeight'));

      const bare = await startBare();
      const bareStarts = await bare.result();
      for (let s = 1; s < STEPS; s++) bareClock.push(bareStarts[s] - bareStarts[s - 1]);
      barePhases.push(...stepPhases((await bare.fetchHistory()).events ?? [], 'noop'));
    }
    // A step: its activity starting to the next one's, in the server's history (microseconds).
    const tollgateSteps = tollgatePhases.map((phase) => phase.cycle);
    const bareSteps = barePhases.map((phase) => phase.cycle);
    const ms = (value: number) => value.toFixed(1);
    const ratio = percentile(tollgateSteps, 50) / percentile(bareSteps, 50);
    say(`1. time per step, ${SEQUENTIAL} workflows of ${STEPS} steps one at a time (step start to next step start):`);
    say(`   Tollgate:     p50 ${ms(percentile(tollgateSteps, 50))} ms, p95 ${ms(percentile(tollgateSteps, 95))} ms`);
    say(`   bare Temporal: p50 ${ms(percentile(bareSteps, 50))} ms, p95 ${ms(percentile(bareSteps, 95))} ms`);
    say(`   ratio of p50s: ${ratio.toFixed(2)} (goal: at most 1.2)`);
    say(
      `   on the workflows' own clocks (whole ms): Tollgate p50 ${percentile(tollgateClock, 50)} ms, bare p50 ${percentile(bareClock, 50)} ms`,
    );
    say(`   where a Tollgate step goes: ${describePhases(tollgatePhases)}`);
    say(`   where a bare step goes:     ${describePhases(barePhases)}`);
    const timings = await activityTimings();
    say(
      `   inside the worker's activity functions (mean ms): ${Object.entries(timings)
        .map(([type, ms]) => `${type} ${mean(ms).toFixed(2)} (${ms.length}×)`)
        .join(', ')}`,
    );
    if (IN_FLIGHT === 0) return;

    // 2. Throughput with 200 in flight (different services: a lane runs one release at a time).
    const cpuBefore = cpuByProgram();
    let begun = Date.now();
    const started = await Promise.all(
      Array.from({ length: IN_FLIGHT }, (_, i) => releases.start(spec(`flight-${i}`, EIGHT_STEPS), who)),
    );
    await Promise.all(started.map(({ releaseId }) => releases.result(releaseId)));
    const seconds = (Date.now() - begun) / 1000;
    const cpu = cpuSince(cpuBefore);
    const sample = (await temporalClient.workflow.getHandle(started[0].releaseId).fetchHistory()).events ?? [];
    const count = (type: number) => sample.filter((event) => Number(event.eventType) === type).length;
    say(
      `2. ${IN_FLIGHT} releases of ${STEPS} steps in flight: all done in ${seconds.toFixed(1)} s, ${(IN_FLIGHT / seconds).toFixed(1)} releases/s`,
    );
    const cpuLine = [...cpu]
      .filter(([name]) => name !== 'whole machine')
      .sort((a, b) => b[1] - a[1])
      .map(([name, used]) => `${name} ${used.toFixed(1)} s`)
      .join(', ');
    say(
      `   CPU used meanwhile (${os.cpus().length} cores × ${seconds.toFixed(1)} s = ${(os.cpus().length * seconds).toFixed(1)} s): ${cpuLine}; ` +
        `whole machine ${(cpu.get('whole machine') ?? 0).toFixed(1)} s (other users of the machine included)`,
    );
    say(
      `   each release: ${sample.length} history events, ${count(EventType.WorkflowTaskCompleted)} workflow tasks, ${count(EventType.ActivityTaskScheduled)} activities`,
    );
    begun = Date.now();
    const bares = await Promise.all(Array.from({ length: IN_FLIGHT }, () => startBare()));
    await Promise.all(bares.map((handle) => handle.result()));
    const bareSeconds = (Date.now() - begun) / 1000;
    say(
      `   bare Temporal, ${IN_FLIGHT} workflows of ${STEPS} activities in flight: ${bareSeconds.toFixed(1)} s, ${(IN_FLIGHT / bareSeconds).toFixed(1)} workflows/s`,
    );

    // 3. Memory with 1,000 releases waiting for a person: all in the cache up to its size.
    const rssBefore = memoryMiB('VmRSS');
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
        await temporalClient.workflow.count(
          `WorkflowType = 'releaseWorkflow' AND ReleaseService STARTS_WITH 'wait-' AND ReleaseWeight = 10 AND ExecutionStatus = 'Running'`,
        )
      ).count;
      if (waiting >= WAITING) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const rssNow = memoryMiB('VmRSS');
    const cached = Math.min(waiting, CACHE);
    say(
      `3. ${waiting} releases waiting at an approval, ${cached} of them cached: worker RSS ${rssNow.toFixed(0)} MiB ` +
        `(${rssBefore.toFixed(0)} MiB before them; peak ${memoryMiB('VmHWM').toFixed(0)} MiB), ` +
        `${((rssNow - rssBefore) / Math.max(1, cached)).toFixed(2)} MiB per cached workflow`,
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
