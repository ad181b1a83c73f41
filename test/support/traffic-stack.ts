import { EVENTUALLY_DEADLINE_MS } from './eventually';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startHaproxy, type LocalHaproxy } from '../../src/devstack/haproxy';
import { startPrometheus, type LocalPrometheus } from '../../src/devstack/prometheus';
import { validateReleaseSpec } from '../../src/domain/parse-spec';
import type { ServerState } from '../../src/domain/routing';
import type { Actor, ReleaseSpec, ReleaseSpecInput } from '../../src/domain/spec';
import { InstanceRecords, stopRecordedInstances } from '../../src/providers/deploy/instance-records';
import { isAlive } from '../../src/providers/exec/process-identity';
import { HaproxyRuntimeApi } from '../../src/providers/traffic/haproxy-runtime-api';
import type { ReleaseClient } from '../../src/client/release-client';

/** The sample service, started by the process deployer exactly as the demo starts it. */
export const SAMPLE_COMMAND = `node --import tsx ${path.resolve(__dirname, '../../examples/sample-service/server.ts')}`;

/** Error ratio of the canary; `or vector(0)` because a healthy version has no 5xx series at all. */
export const ERROR_RATE_QUERY =
  '(sum(rate(http_requests_total{service="{{service}}",version="{{canaryVersion}}",code=~"5.."}[5s])) or vector(0))' +
  ' / sum(rate(http_requests_total{service="{{service}}",version="{{canaryVersion}}"}[5s]))';
/** Mean latency of one version ({{version}} is the side measured in a comparison). */
export const MEAN_LATENCY_QUERY =
  'sum(rate(http_request_duration_seconds_sum{service="{{service}}",version="{{version}}"}[3s]))' +
  ' / sum(rate(http_request_duration_seconds_count{service="{{service}}",version="{{version}}"}[3s]))';

export const releaser: Actor = { id: 'ci', name: 'CI', via: 'ci' };

/**
 * Real HAProxy and real Prometheus on loopback, with one frontend/backend per service, and a folder
 * for the process deployer's records (so the test can find and stop every process it started).
 */
export class TrafficStack {
  private constructor(
    readonly haproxy: LocalHaproxy,
    readonly prometheus: LocalPrometheus,
    readonly stateRoot: string,
  ) {}

  static async start(services: string[]): Promise<TrafficStack> {
    const [haproxy, prometheus] = await Promise.all([
      startHaproxy({ services: services.map((name) => ({ name })) }),
      startPrometheus(),
    ]);
    return new TrafficStack(haproxy, prometheus, fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-instances-')));
  }

  stateDirectory(service: string): string {
    return path.join(this.stateRoot, service);
  }

  /** The backend's servers as HAProxy reports them now. */
  servers(service: string): Promise<ServerState[]> {
    return new HaproxyRuntimeApi(this.haproxy.runtimeApi).servers(service);
  }

  /** Running instances of a version, per the deployer's records and the OS. */
  runningInstances(service: string, version: string): number[] {
    const record = new InstanceRecords(this.stateDirectory(service)).read(version);
    return (record?.instances ?? []).map((instance) => instance.pid).filter(isAlive);
  }

  /** Ports a version's instances listen on. */
  ports(service: string, version: string): number[] {
    const record = new InstanceRecords(this.stateDirectory(service)).read(version);
    return (record?.instances ?? []).map((instance) => instance.port);
  }

  spec(options: {
    service: string;
    version: string;
    strategy?: ReleaseSpecInput['strategy'];
    steps?: NonNullable<ReleaseSpecInput['strategy']['canary']>['steps'];
    analysis?: ReleaseSpecInput['analysis'];
    errorBudget?: ReleaseSpecInput['errorBudget'];
    instances?: number;
    readinessTimeout?: string;
  }): ReleaseSpec {
    const input: ReleaseSpecInput = {
      service: options.service,
      environment: 'staging',
      version: options.version,
      deploy: {
        provider: 'process',
        command: SAMPLE_COMMAND,
        instances: options.instances ?? 2,
        readiness: { path: '/healthz', timeout: options.readinessTimeout ?? '3m', interval: '100ms' },
        stopTimeout: '5s',
        stateDirectory: this.stateDirectory(options.service),
        prometheusTargets: this.prometheus.targetsDir,
      },
      traffic: { provider: 'haproxy', runtimeApi: this.haproxy.runtimeApi, backend: options.service },
      strategy: options.strategy ?? { canary: { steps: options.steps ?? [{ setWeight: 100 }] } },
      analysis: options.analysis,
      errorBudget: options.errorBudget,
      execution: { attempts: 2, heartbeatTimeout: '10s', stepTimeout: '5m', rollbackTimeout: '10m' },
    };
    return validateReleaseSpec(input, 'test spec');
  }

  /** The templates the tests use, against this stack's Prometheus. */
  analysis(): NonNullable<ReleaseSpecInput['analysis']> {
    const address = this.prometheus.url;
    return {
      'error-rate': {
        provider: 'prometheus',
        address,
        query: ERROR_RATE_QUERY,
        successCondition: 'result < 0.05',
        interval: '1s',
        inconclusiveLimit: 6,
      },
      'latency-threshold': {
        provider: 'prometheus',
        address,
        query: MEAN_LATENCY_QUERY.replaceAll('{{version}}', '{{canaryVersion}}'),
        successCondition: 'result < 0.5',
        interval: '1s',
        inconclusiveLimit: 6,
      },
      'latency-vs-stable': {
        provider: 'comparison',
        address,
        query: MEAN_LATENCY_QUERY,
        lookback: '15s',
        step: '1s',
        tolerance: 1,
        minSamples: 6,
        interval: '1s',
        inconclusiveLimit: 8,
      },
      smoke: { provider: 'http', path: '/', expect: { status: [200], bodyContains: '"version"' }, interval: '1s' },
    };
  }

  /** Releases `version` straight to 100%, so the lane has a stable version for the test's release. */
  async bootstrap(releases: ReleaseClient, service: string, version = '1.0.0'): Promise<void> {
    const { releaseId } = await releases.start(this.spec({ service, version }), releaser);
    const result = await outcomeOf(releases, releaseId);
    if (result.outcome !== 'Succeeded')
      throw new Error(`bootstrap of ${service} ${version} ended ${result.outcome}: ${result.reason}`);
  }

  /** Stops every instance the tests started, then HAProxy and Prometheus. */
  async stop(): Promise<void> {
    const services = fs.existsSync(this.stateRoot) ? fs.readdirSync(this.stateRoot) : [];
    await Promise.all(services.map((service) => stopRecordedInstances(this.stateDirectory(service), 0)));
    await Promise.all([this.haproxy.stop(), this.prometheus.stop()]);
    fs.rmSync(this.stateRoot, { recursive: true, force: true });
  }
}

/** The share of requests a version gets, from the servers HAProxy reports and the ports the version listens on. */
export function shareOf(servers: ServerState[], ports: number[]): number {
  const serving = servers.filter((server) => server.state === 'ready' && server.weight > 0);
  const total = serving.reduce((sum, server) => sum + server.weight, 0);
  const mine = serving.filter((server) => ports.includes(server.port)).reduce((sum, server) => sum + server.weight, 0);
  return total === 0 ? 0 : Math.round((100 * mine) / total);
}

/**
 * The release's result; fails at once, with the reason, if it holds on inconclusive analysis instead,
 * and with its last status if it has not ended within `timeoutMs` (a test that expects an outcome
 * should say why it did not get one, not time out silently).
 */
export async function outcomeOf(
  releases: ReleaseClient,
  releaseId: string,
  timeoutMs = EVENTUALLY_DEADLINE_MS,
): Promise<Awaited<ReturnType<ReleaseClient['result']>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await releases.status(releaseId);
    if (status.outcome) return releases.result(releaseId);
    const recent = status.events
      .slice(-6)
      .map((event) => `${event.at} ${event.kind}: ${event.message.slice(0, 300)}`)
      .join('\n');
    if (status.hold?.reason.includes('inconclusive')) throw new Error(`${releaseId} holds: ${status.hold.reason}`);
    if (Date.now() > deadline)
      throw new Error(
        `${releaseId} still ${status.stage} at ${status.weight}% after ${timeoutMs / 1000}s; last events:\n${recent}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
