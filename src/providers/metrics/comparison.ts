import type { Measurement } from '../../domain/analysis';
import { toMillis } from '../../domain/duration';
import { mannWhitneyU, median } from '../../domain/mann-whitney';
import { MissingFact, renderQuery } from '../../domain/query-template';
import type { ComparisonAnalysis } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { PrometheusClient, QueryRejected } from './prometheus-client';
import { describeError, format } from './prometheus';
import type { MetricSource } from './source';

/**
 * Canary against stable, as Kayenta judges: the same range query for both versions over the last
 * `lookback`, and a Mann-Whitney U test on the two samples. A canary that is worse in the bad
 * direction with the configured confidence, by more than the tolerance, fails the measurement; a
 * threshold could not tell a 20 ms service from a 200 ms one that still meets its SLO.
 */
export class ComparisonMetricSource implements MetricSource {
  readonly type = 'comparison';

  constructor(private readonly config: ComparisonAnalysis) {}

  async measure(ctx: ProviderContext): Promise<Measurement> {
    const at = new Date().toISOString();
    const { facts } = ctx;
    if (!facts.stableVersion) {
      return {
        at,
        phase: 'Inconclusive',
        message: 'no stable version to compare against: this is the first release of its lane',
      };
    }
    let canaryQuery: string;
    let stableQuery: string;
    try {
      canaryQuery = renderQuery(this.config.query, facts, { version: facts.version });
      stableQuery = renderQuery(this.config.query, facts, { version: facts.stableVersion });
    } catch (err) {
      if (err instanceof MissingFact) return { at, phase: 'Inconclusive', message: err.message };
      throw err;
    }
    const client = new PrometheusClient(
      this.config.address,
      this.config.headers,
      toMillis(this.config.timeout),
      ctx.signal,
    );
    const end = Date.now() / 1000;
    const start = end - toMillis(this.config.lookback) / 1000;
    const step = toMillis(this.config.step) / 1000;
    let canary: number[];
    let stable: number[];
    try {
      const [canarySeries, stableSeries] = await Promise.all([
        client.range(canaryQuery, start, end, step),
        client.range(stableQuery, start, end, step),
      ]);
      const finite = (series: { values: number[] }[]) =>
        series.flatMap((entry) => entry.values).filter((value) => Number.isFinite(value));
      canary = finite(canarySeries);
      stable = finite(stableSeries);
    } catch (err) {
      if (err instanceof QueryRejected)
        throw new ProviderError(
          `Prometheus rejected the query ${canaryQuery}: ${err.message}; fix the template's query`,
          false,
        );
      if (err instanceof ProviderError) throw err;
      return { at, phase: 'Error', message: `could not query Prometheus at ${client.address}: ${describeError(err)}` };
    }
    const { minSamples } = this.config;
    if (canary.length < minSamples || stable.length < minSamples) {
      return {
        at,
        phase: 'Inconclusive',
        message: `too few points to compare over ${this.config.lookback}: canary ${facts.version} has ${canary.length}, stable ${facts.stableVersion} ${stable.length}; ${minSamples} each are needed`,
      };
    }
    const test = mannWhitneyU(canary, stable);
    const stableMedian = median(stable);
    const canaryMedian = median(canary);
    const relative =
      stableMedian === 0
        ? test.shift === 0
          ? 0
          : Math.sign(test.shift) * Infinity
        : test.shift / Math.abs(stableMedian);
    const significant = test.pValue < 1 - this.config.confidence;
    const badDirection =
      this.config.direction === 'either' || (this.config.direction === 'increase' ? relative > 0 : relative < 0);
    const beyondTolerance = Math.abs(relative) > this.config.tolerance;
    const evidence =
      `canary ${facts.version} median ${format(canaryMedian)} vs stable ${facts.stableVersion} ${format(stableMedian)} ` +
      `(${relative >= 0 ? '+' : ''}${format(relative * 100)}%), Mann-Whitney p=${test.pValue.toPrecision(2)} over ${canary.length}/${stable.length} points`;
    if (significant && badDirection && beyondTolerance) {
      return {
        at,
        phase: 'Failed',
        value: relative,
        message: `${evidence}: worse than stable by more than ${format(this.config.tolerance * 100)}% with ${format(this.config.confidence * 100)}% confidence`,
      };
    }
    return { at, phase: 'Successful', value: relative, message: `${evidence}: no worse than stable` };
  }
}
