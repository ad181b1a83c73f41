import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startLoad } from '../examples/load-generator/load';
import { startHaproxy, type LocalHaproxy } from '../src/devstack/haproxy';
import { startLocalStack } from '../src/devstack/local-stack';
import { startPrometheus } from '../src/devstack/prometheus';
import { demoSpec, type DemoEnvironment } from '../src/demo/demo-specs';
import { startInProcessWorker } from '../src/demo/in-process-worker';
import type { ReleaseClient } from '../src/client/release-client';
import type { ReleaseSpec } from '../src/domain/spec';
import {
  InstanceRecords,
  killRecordedInstances,
  stopRecordedInstances,
} from '../src/providers/deploy/instance-records';
import { HaproxyRuntimeApi } from '../src/providers/traffic/haproxy-runtime-api';
import { PROFILES } from '../examples/sample-service/profiles';
import { required } from '../src/domain/required';

/**
 * `npm run bench:rollback`: a faulty canary (3.0.0 fails 30% of its requests) under a steady load
 * through real HAProxy, analysed by real Prometheus every second; then the same as a blue-green
 * switch. Prints the seconds from the first failed request to the canary's weight back at 0, and
 * the share of all requests that failed, against what the goal allows:
 * weight × error rate × requests a second × seconds to weight 0.
 */
const RATE = Number(process.env.BENCH_RATE ?? 200);
const CANARY_WEIGHT = 20;
const FAULTY = '3.0.0';
const GOAL_SECONDS = 5;
/** Each scenario runs this often: detection depends on where the first failure falls between two scrapes. */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SERVICES = Array.from({ length: RUNS }, (_, run) => [`canary-${run + 1}`, `bluegreen-${run + 1}`]).flat();

interface Figures {
  scenario: string;
  weight: number;
  secondsToZero: number;
  failed: number;
  sent: number;
  /** weight × error rate × measured request rate × seconds to weight 0: the failures the goal expects. */
  expected: number;
  /** The same with three standard deviations of sampling noise: a 30% failure rate is a coin, not a clock. */
  allowed: number;
  outcome: string;
}

async function main(): Promise<void> {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  const workDir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tollgate-bench-'));
  const log = (line: string) => process.stderr.write(`  ${line}\n`);
  const [stack, haproxy, prometheus] = await Promise.all([
    startLocalStack({ stateDir: path.join(workDir, 'stack'), persistent: false, log }),
    startHaproxy({ services: SERVICES.map((name) => ({ name })), log }),
    startPrometheus({ log }),
  ]);
  const worker = await startInProcessWorker(stack.temporal.address, stack.databaseUrl, 'tollgate-bench');
  const envFor = (service: string): DemoEnvironment => ({
    runtimeApi: haproxy.runtimeApi,
    prometheusUrl: prometheus.url,
    prometheusTargets: prometheus.targetsDir,
    stateDirectory: path.join(workDir, 'instances', service),
  });
  process.once('exit', () => SERVICES.forEach((service) => killRecordedInstances(envFor(service).stateDirectory)));
  try {
    const results: Figures[] = [];
    const analysisOnly = { templates: ['error-rate'], duration: '60s' };
    for (let run = 1; run <= RUNS; run++) {
      const canaryService = `canary-${run}`;
      const canary = withStrategy(demoSpec(envFor(canaryService), FAULTY, { service: canaryService }), {
        canary: { steps: [{ setWeight: CANARY_WEIGHT }, { analysis: analysisOnly }, { setWeight: 100 }] },
      });
      results.push(
        await measure(`canary at 20% #${run}`, CANARY_WEIGHT, canary, envFor(canaryService), worker.releases, haproxy),
      );
      const blueGreenService = `bluegreen-${run}`;
      const blueGreen = withStrategy(demoSpec(envFor(blueGreenService), FAULTY, { service: blueGreenService }), {
        blueGreen: { postPromotionAnalysis: analysisOnly },
      });
      results.push(
        await measure(`blue-green switch #${run}`, 100, blueGreen, envFor(blueGreenService), worker.releases, haproxy),
      );
    }
    print(results);
  } finally {
    await worker.stop();
    await Promise.all(SERVICES.map((service) => stopRecordedInstances(envFor(service).stateDirectory)));
    await Promise.all([haproxy.stop(), prometheus.stop()]);
    await stack.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

function withStrategy(spec: ReleaseSpec, strategy: ReleaseSpec['strategy']): ReleaseSpec {
  return { ...spec, strategy, errorBudget: undefined };
}

async function measure(
  scenario: string,
  weight: number,
  spec: ReleaseSpec,
  env: DemoEnvironment,
  releases: ReleaseClient,
  haproxy: LocalHaproxy,
): Promise<Figures> {
  process.stderr.write(`${scenario}: releasing 1.0.0, then ${FAULTY} under ${RATE} requests a second\n`);
  const first = await releases.start(demoSpec(env, '1.0.0', { first: true, service: spec.service }), {
    id: 'bench',
    via: 'cli',
  });
  await releases.result(first.releaseId);
  const load = startLoad({ url: haproxy.frontends[spec.service], rate: RATE, connections: 16, maxSeconds: 300 });
  await sleep(3000);
  const sentBefore = load.report().sent;
  const failedBefore = load.report().failed.length;

  const { releaseId } = await releases.start(spec, { id: 'bench', via: 'cli' });
  // Poll HAProxy itself: the canary's weight is 0 when no serving server points at its instances.
  const api = new HaproxyRuntimeApi(haproxy.runtimeApi);
  let canaryPorts: number[] = [];
  let servedAt: number | undefined;
  let zeroAt: number | undefined;
  for (;;) {
    canaryPorts = canaryPorts.length
      ? canaryPorts
      : (new InstanceRecords(env.stateDirectory).read(FAULTY)?.instances ?? []).map((i) => i.port);
    const servers = await api.servers(spec.service);
    const serving = servers.some(
      (server) => server.state === 'ready' && server.weight > 0 && canaryPorts.includes(server.port),
    );
    if (serving) servedAt ??= Date.now();
    else if (servedAt && !zeroAt) zeroAt = Date.now();
    if (zeroAt) break;
    await sleep(20);
  }
  const result = await releases.result(releaseId);
  await sleep(1000);
  const report = await load.stop();
  const failures = report.failed.slice(failedBefore);
  const firstFailure =
    failures.find((failure) => failure.version === FAULTY)?.at ??
    required(servedAt, 'the moment the faulty version was served');
  const secondsToZero = (zeroAt - firstFailure) / 1000;
  const errorRate = PROFILES.faulty.errorRate;
  const sent = report.sent - sentBefore;
  const measuredRate = sent / ((required(report.stoppedAt, 'load stop time') - report.startedAt) / 1000 - 3);
  const expected = (weight / 100) * errorRate * measuredRate * Math.max(secondsToZero, 0);
  return {
    scenario,
    weight,
    secondsToZero,
    failed: failures.length,
    sent,
    expected,
    allowed: Math.ceil(expected + 3 * Math.sqrt(expected * (1 - errorRate))),
    outcome: result.outcome,
  };
}

function print(results: Figures[]): void {
  const lines = [
    '',
    `Faulty canary ${FAULTY} (fails ${PROFILES.faulty.errorRate * 100}% of requests), ${RATE} requests a second, analysis every 1s`,
    '',
    'scenario                outcome     first failure → weight 0   failed / sent          goal allows (expected)   verdict',
    ...results.map((r) => {
      const within = r.secondsToZero < GOAL_SECONDS && r.failed <= r.allowed;
      return (
        `${r.scenario.padEnd(23)} ${r.outcome.padEnd(11)} ${`${r.secondsToZero.toFixed(2)} s`.padEnd(26)} ` +
        `${`${r.failed} / ${r.sent} (${((100 * r.failed) / Math.max(1, r.sent)).toFixed(2)}%)`.padEnd(22)} ` +
        `${`≤ ${r.allowed} (${r.expected.toFixed(0)})`.padEnd(24)} ${within ? 'within goal' : 'MISSED GOAL'}`
      );
    }),
    '',
    ...['canary', 'blue-green'].map((kind) => {
      const runs = results.filter((r) => r.scenario.startsWith(kind));
      const seconds = runs.map((r) => r.secondsToZero).sort((a, b) => a - b);
      const failedShare =
        runs.reduce((sum, r) => sum + r.failed, 0) /
        Math.max(
          1,
          runs.reduce((sum, r) => sum + r.sent, 0),
        );
      return `${kind.padEnd(10)} over ${runs.length} runs: weight 0 after ${seconds[Math.floor(seconds.length / 2)].toFixed(2)} s median, ${seconds[seconds.length - 1].toFixed(2)} s worst; ${(100 * failedShare).toFixed(2)}% of all requests failed`;
    }),
    '',
    `goal: under ${GOAL_SECONDS} s to weight 0, and failed requests ≤ weight × error rate × measured rate × seconds to weight 0`,
    '(expected value in brackets; the bound adds 3 standard deviations, since which requests fail is random)',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench:rollback failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
