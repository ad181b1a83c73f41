import type { Measurement } from '../../domain/analysis';
import { toMillis } from '../../domain/duration';
import { MissingFact, renderQuery } from '../../domain/query-template';
import type { PrometheusAnalysis } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { compileCondition } from './condition';
import { describeLabels, PrometheusClient, QueryRejected } from './prometheus-client';
import type { MetricSource } from './source';

/**
 * An instant PromQL query with the release's facts templated in. Every series of the answer must
 * meet successCondition (and none failureCondition). No series, or NaN, is inconclusive: no
 * evidence is not good evidence.
 */
export class PrometheusMetricSource implements MetricSource {
  readonly type = 'prometheus';

  constructor(private readonly config: PrometheusAnalysis) {}

  async measure(ctx: ProviderContext): Promise<Measurement> {
    const at = new Date().toISOString();
    const success = compileCondition(this.config.successCondition, 'successCondition');
    const failure = this.config.failureCondition
      ? compileCondition(this.config.failureCondition, 'failureCondition')
      : undefined;
    let query: string;
    try {
      query = renderQuery(this.config.query, ctx.facts);
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
    let series;
    try {
      series = await client.instant(query);
    } catch (err) {
      if (err instanceof QueryRejected)
        throw new ProviderError(
          `Prometheus rejected the query ${query}: ${err.message}; fix the template's query`,
          false,
        );
      if (err instanceof ProviderError) throw err;
      return { at, phase: 'Error', message: `could not query Prometheus at ${client.address}: ${describeError(err)}` };
    }
    if (series.length === 0) return { at, phase: 'Inconclusive', message: `no data: ${query} returned no series` };
    const values = series.map((entry) => ({ labels: entry.labels, value: entry.values[0] }));
    const unusable = values.find((entry) => Number.isNaN(entry.value));
    if (unusable)
      return {
        at,
        phase: 'Inconclusive',
        message: `NaN for ${describeLabels(unusable.labels)} (no requests to divide by?): ${query}`,
      };

    const verdicts = values.map((entry) => {
      const passed = success(entry.value);
      const failed = failure?.(entry.value) ?? false;
      const error = passed instanceof Error ? passed : failed instanceof Error ? failed : undefined;
      if (error)
        throw new ProviderError(
          `the condition cannot be evaluated: ${error.message}; conditions may use only "result"`,
          false,
        );
      return { ...entry, ok: passed === true && failed === false };
    });
    const bad = verdicts.filter((entry) => !entry.ok);
    const shown = (bad[0] ?? verdicts[0]).value;
    const where = values.length > 1 ? ` (${values.length} series)` : '';
    if (bad.length > 0) {
      return {
        at,
        phase: 'Failed',
        value: shown,
        message: `result ${format(shown)}${values.length > 1 ? ` for ${describeLabels(bad[0].labels)}` : ''} does not meet ${describeConditions(this.config)}${where}`,
      };
    }
    return {
      at,
      phase: 'Successful',
      value: shown,
      message: `result ${format(shown)} meets ${describeConditions(this.config)}${where}`,
    };
  }
}

function describeConditions(config: PrometheusAnalysis): string {
  return `"${config.successCondition}"${config.failureCondition ? ` (failureCondition "${config.failureCondition}")` : ''}`;
}

export function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : Number(value.toPrecision(3)).toString();
}

export function describeError(err: unknown): string {
  const error = err as Error & { cause?: { code?: string; message?: string } };
  return error.cause?.code ?? error.cause?.message ?? error.message;
}
