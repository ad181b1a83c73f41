import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startLoad, type LoadRun } from '../../examples/load-generator/load';
import { type ReleaseClient } from '../client/release-client';
import { temporalUiLink } from '../domain/temporal-ui-link';
import { startHaproxy } from '../devstack/haproxy';
import { startLocalStack } from '../devstack/local-stack';
import { startPrometheus } from '../devstack/prometheus';
import type { ReleaseSpec } from '../domain/spec';
import { killRecordedInstances, stopRecordedInstances } from '../providers/deploy/instance-records';
import { demoSpec, type DemoEnvironment } from './demo-specs';
import { startInProcessWorker } from './in-process-worker';
import { LiveView } from './live-view';
import { renderSummary, whyItEnded, type DemoRow } from './summary';
import { required } from '../domain/required';

export interface DemoOptions {
  /** Non-interactive: no live bars, exit when done, status 0 only if v2 Succeeded and v3 RolledBack. */
  ci: boolean;
  /** Requests a second the load generator sends through HAProxy. */
  rate: number;
  write: (line: string) => void;
}

const TASK_QUEUE = 'tollgate-demo';

/**
 * `npm run demo`: the whole local stack (Temporal dev server and UI, PostgreSQL, HAProxy,
 * Prometheus, a worker, the sample service under load), then two releases: v2 through
 * 1 → 10 → 50 → 100 to Succeeded, and the faulty v3, rolled back by its analysis. Everything it
 * started stops on Ctrl-C or at the end.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const say = options.write;
  const cleanup: { name: string; run: () => Promise<void> }[] = [];
  const stopAll = async () => {
    while (cleanup.length > 0) {
      const step = required(cleanup.pop(), 'cleanup step');
      await step.run().catch((err: Error) => say(`(could not stop ${step.name}: ${err.message})`));
    }
  };
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) return;
    interrupted = true;
    say('\nCtrl-C: stopping everything the demo started…');
    void stopAll().then(() => process.exit(130));
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);

  // Before the dev server starts: its test environment would install a chatty runtime of its own.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  try {
    const workDir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tollgate-demo-'));
    cleanup.push({ name: 'the demo folder', run: async () => fs.rmSync(workDir, { recursive: true, force: true }) });
    say('Starting the local stack: Temporal dev server with its UI, PostgreSQL, HAProxy, Prometheus…');
    const log = (line: string) => say(`  ${line}`);
    const [stack, haproxy, prometheus] = await Promise.all([
      startLocalStack({ stateDir: path.join(workDir, 'stack'), persistent: false, log }),
      startHaproxy({ services: [{ name: 'sample' }], log }),
      startPrometheus({ log }),
    ]);
    cleanup.push({ name: 'Temporal and PostgreSQL', run: () => stack.stop() });
    cleanup.push({ name: 'HAProxy', run: () => haproxy.stop() });
    cleanup.push({ name: 'Prometheus', run: () => prometheus.stop() });
    const env: DemoEnvironment = {
      runtimeApi: haproxy.runtimeApi,
      prometheusUrl: prometheus.url,
      prometheusTargets: prometheus.targetsDir,
      stateDirectory: path.join(workDir, 'instances'),
    };
    cleanup.push({ name: 'the sample service', run: () => stopRecordedInstances(env.stateDirectory) });
    // Instances run detached (they must outlive a worker); whatever way this process ends, they end with it.
    process.once('exit', () => killRecordedInstances(env.stateDirectory));

    say('Starting a Tollgate worker (bundling the workflows takes a few seconds)…');
    const worker = await startInProcessWorker(stack.temporal.address, stack.databaseUrl, TASK_QUEUE);
    cleanup.push({ name: 'the worker', run: () => worker.stop() });
    const releases = worker.releases;
    say('');
    say(`  Temporal UI   ${stack.uiUrl}`);
    say(`  HAProxy       ${haproxy.frontends.sample}  (Runtime API ${haproxy.runtimeApi})`);
    say(`  Prometheus    ${prometheus.url}`);
    say('');

    const rows: DemoRow[] = [];
    rows.push(
      await release(
        releases,
        demoSpec(env, '1.0.0', { first: true }),
        'Succeeded',
        'v1: first release',
        options,
        stack.uiUrl,
      ),
    );
    const load = startLoad({ url: haproxy.frontends.sample, rate: options.rate, maxSeconds: 600 });
    cleanup.push({ name: 'the load generator', run: async () => void (await load.stop()) });
    await sleep(3000);
    rows.push(await release(releases, demoSpec(env, '2.0.0'), 'Succeeded', 'v2: healthy', options, stack.uiUrl, load));
    await sleep(3000);
    rows.push(
      await release(releases, demoSpec(env, '3.0.0'), 'RolledBack', 'v3: fails 30%', options, stack.uiUrl, load),
    );
    await load.stop();

    say('');
    say(renderSummary(rows));
    const passed = rows.every((row) => row.outcome === row.expected);
    say('');
    say(
      passed
        ? 'v2 reached 100% and v3 was rolled back automatically, as expected.'
        : 'The demo did not end as expected; see the reasons above.',
    );
    if (!options.ci) {
      say(`Everything still runs: open ${stack.uiUrl} to read each release's history. Ctrl-C stops it all.`);
      await new Promise(() => {});
    }
    return passed ? 0 : 1;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    process.removeListener('SIGTERM', onInterrupt);
    if (!interrupted) await stopAll();
  }
}

async function release(
  releases: ReleaseClient,
  spec: ReleaseSpec,
  expected: string,
  title: string,
  options: DemoOptions,
  uiUrl: string | undefined,
  load?: LoadRun,
): Promise<DemoRow> {
  const started = Date.now();
  const sentBefore = load?.report().sent ?? 0;
  const failedBefore = load?.report().failed.length ?? 0;
  const { releaseId } = await releases.start(spec, { id: 'demo', name: 'npm run demo', via: 'cli' });
  if (uiUrl) options.write(`${title}: ${temporalUiLink(uiUrl, releaseId)}`);
  const view = new LiveView(`${title}`, !options.ci && Boolean(process.stdout.isTTY), options.write);
  let status = await releases.status(releaseId);
  for (;;) {
    const recent = load?.recent(5) ?? {};
    const rate = (version?: string) => {
      const counts = version ? recent[version] : undefined;
      return counts && counts.ok + counts.failed > 0 ? counts.failed / (counts.ok + counts.failed) : undefined;
    };
    const total = Object.values(recent).reduce((sum, counts) => sum + counts.ok + counts.failed, 0);
    view.update({
      status,
      errors: { stable: rate(status.stableVersion), canary: rate(spec.version) },
      requestsPerSecond: total / 5,
    });
    if (status.outcome) break;
    await sleep(300);
    status = await releases.status(releaseId);
  }
  view.close();
  const report = load?.report();
  return {
    release: title,
    version: spec.version,
    expected,
    outcome: status.outcome.stage,
    seconds: (Date.now() - started) / 1000,
    requests: (report?.sent ?? 0) - sentBefore,
    failed: (report?.failed.length ?? 0) - failedBefore,
    reason: whyItEnded(status),
  };
}
