import fs from 'node:fs';
import path from 'node:path';
import { validateReleaseSpec } from '../domain/parse-spec';
import type { ReleaseSpec, ReleaseSpecInput } from '../domain/spec';

/**
 * The sample service as the process deployer starts it (one Node process per instance, TypeScript
 * through tsx), from the checkout's examples/: two folders up from src/demo, three from the
 * compiled dist/src/demo.
 */
export const SAMPLE_SERVICE =
  ['../..', '../../..']
    .map((up) => path.resolve(__dirname, up, 'examples', 'sample-service', 'server.ts'))
    .find((candidate) => fs.existsSync(candidate)) ??
  path.resolve(__dirname, '../../examples/sample-service/server.ts');

/**
 * Error ratio of the canary over its whole life: a canary is new, so its counters since start are
 * the right window, and unlike rate() the ratio moves on the first scrape after the first failure.
 * `or vector(0)` because a healthy version has no 5xx series at all.
 */
export const CANARY_ERROR_RATE =
  '(sum(http_requests_total{service="{{service}}",version="{{canaryVersion}}",code=~"5.."}) or vector(0))' +
  ' / sum(http_requests_total{service="{{service}}",version="{{canaryVersion}}"})';

/** Mean latency of one version over 3s; in a comparison {{version}} is the side measured. */
export const MEAN_LATENCY =
  'sum(rate(http_request_duration_seconds_sum{service="{{service}}",version="{{version}}"}[3s]))' +
  ' / sum(rate(http_request_duration_seconds_count{service="{{service}}",version="{{version}}"}[3s]))';

/** The whole service's error ratio over the budget window. */
export const SERVICE_ERROR_RATIO =
  '(sum(rate(http_requests_total{service="{{service}}",code=~"5.."}[{{window}}])) or vector(0)) / sum(rate(http_requests_total{service="{{service}}"}[{{window}}]))';

export interface DemoEnvironment {
  runtimeApi: string;
  prometheusUrl: string;
  prometheusTargets: string;
  stateDirectory: string;
}

/**
 * The demo's release spec for one version of the sample service: canary 1 → 10 → 50 → 100 with
 * a smoke test, the canary's error rate against a threshold, its latency against stable's
 * (Mann-Whitney), and an error budget gate. The first release of the lane goes straight to 100%.
 */
export function demoSpec(
  env: DemoEnvironment,
  version: string,
  options: { first?: boolean; service?: string } = {},
): ReleaseSpec {
  const address = env.prometheusUrl;
  const input: ReleaseSpecInput = {
    service: options.service ?? 'sample',
    environment: 'local',
    version,
    deploy: {
      provider: 'process',
      command: `node --import tsx ${SAMPLE_SERVICE}`,
      instances: 2,
      readiness: { path: '/healthz', timeout: '30s', interval: '100ms' },
      stopTimeout: '5s',
      stateDirectory: env.stateDirectory,
      prometheusTargets: env.prometheusTargets,
    },
    traffic: { provider: 'haproxy', runtimeApi: env.runtimeApi, backend: options.service ?? 'sample' },
    strategy: {
      canary: {
        steps: options.first
          ? [{ setWeight: 100 }]
          : [
              { setWeight: 1 },
              { analysis: { templates: ['smoke', 'error-rate'], duration: '8s' } },
              { setWeight: 10 },
              { analysis: { templates: ['error-rate'], duration: '5s' } },
              { setWeight: 50 },
              { analysis: { templates: ['error-rate', 'latency-vs-stable'], duration: '6s' } },
              { setWeight: 100 },
            ],
        bake: options.first ? undefined : '3s',
      },
    },
    analysis: {
      smoke: { provider: 'http', path: '/', expect: { status: [200], bodyContains: '"version"' }, interval: '1s' },
      'error-rate': {
        provider: 'prometheus',
        address,
        query: CANARY_ERROR_RATE,
        successCondition: 'result < 0.05',
        interval: '1s',
        inconclusiveLimit: 6,
      },
      'latency-vs-stable': {
        provider: 'comparison',
        address,
        query: MEAN_LATENCY,
        lookback: '15s',
        step: '1s',
        tolerance: 1,
        minSamples: 6,
        interval: '1s',
        inconclusiveLimit: 8,
      },
    },
    errorBudget: {
      address,
      errorRatioQuery: SERVICE_ERROR_RATIO,
      objective: 0.99,
      window: '5m',
      maxBurnRate: 10,
      checkEvery: '5s',
    },
    execution: { attempts: 2, heartbeatTimeout: '10s', stepTimeout: '2m', rollbackTimeout: '5m' },
  };
  return validateReleaseSpec(input, `demo spec for ${version}`);
}
