import type { Measurement } from '../../domain/analysis';
import { endpointKey } from '../../domain/deployment';
import { toMillis } from '../../domain/duration';
import type { HttpAnalysis } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { resolveSecret } from '../secrets';
import { describeError } from './prometheus';
import type { MeasureTarget, MetricSource } from './source';

/** Longest body excerpt kept as evidence. */
const BODY_EXCERPT = 120;

/**
 * A smoke test against every instance of the new version directly (not through the router), so it
 * can run before any user traffic reaches the canary. Each measurement asks every instance once; one
 * wrong answer, or none, fails the measurement.
 */
export class HttpMetricSource implements MetricSource {
  readonly type = 'http';

  constructor(private readonly config: HttpAnalysis) {}

  async measure(ctx: ProviderContext, _weight: number, target?: MeasureTarget): Promise<Measurement> {
    const at = new Date().toISOString();
    const endpoints = target?.canary?.endpoints ?? [];
    if (endpoints.length === 0) {
      throw new ProviderError(
        'the http smoke test calls the new version directly and needs to know where it listens; use a deployer that reports its instances (deploy.provider: process)',
        false,
      );
    }
    const headers = Object.fromEntries(
      Object.entries(this.config.headers ?? {}).map(([name, value]) => [name, resolveSecret(value, `headers.${name}`)]),
    );
    const problems: string[] = [];
    let lastStatus: number | undefined;
    for (const endpoint of endpoints) {
      const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
      const url = `http://${host}:${endpoint.port}${this.config.path}`;
      try {
        const response = await fetch(url, {
          method: this.config.method,
          headers,
          body: this.config.body,
          signal: AbortSignal.any([AbortSignal.timeout(toMillis(this.config.timeout)), ctx.signal]),
        });
        const body = await response.text();
        lastStatus = response.status;
        const problem = this.check(response.status, body);
        if (problem) problems.push(`${endpointKey(endpoint)}: ${problem}`);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        problems.push(`${endpointKey(endpoint)}: no answer (${describeError(err)})`);
      }
    }
    const what = `${this.config.method} ${this.config.path} on ${endpoints.length} instance${endpoints.length > 1 ? 's' : ''} of ${target?.canary?.version}`;
    if (problems.length > 0)
      return { at, phase: 'Failed', value: lastStatus, message: `${what}: ${problems.join('; ')}` };
    return { at, phase: 'Successful', value: lastStatus, message: `${what}: all answered as expected` };
  }

  private check(status: number, body: string): string | undefined {
    const { expect } = this.config;
    const excerpt = JSON.stringify(body.slice(0, BODY_EXCERPT));
    if (!expect.status.includes(status))
      return `status ${status}, expected ${expect.status.join(' or ')} (body ${excerpt})`;
    if (expect.bodyContains && !body.includes(expect.bodyContains))
      return `body ${excerpt} does not contain ${JSON.stringify(expect.bodyContains)}`;
    if (expect.bodyMatches && !new RegExp(expect.bodyMatches).test(body))
      return `body ${excerpt} does not match /${expect.bodyMatches}/`;
    return undefined;
  }
}
