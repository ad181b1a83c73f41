import { resolveSecret } from '../secrets';

/** One series of a query's answer: its labels and its values (one for an instant query). */
export interface Series {
  labels: Record<string, string>;
  values: number[];
}

/** A query Prometheus answered with an error: a bad query cannot get better by asking again. */
export class QueryRejected extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueryRejected';
  }
}

interface ApiAnswer {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: 'vector' | 'matrix' | 'scalar' | 'string'; result: unknown };
}

/** Prometheus's HTTP API (/api/v1/query, /api/v1/query_range); the address and header values may be env:NAME. */
export class PrometheusClient {
  readonly address: string;
  private readonly headers: Record<string, string>;

  constructor(
    address: string,
    headers: Record<string, string> | undefined,
    private readonly timeoutMs: number,
    private readonly signal?: AbortSignal,
  ) {
    this.address = resolveSecret(address, 'address').replace(/\/$/, '');
    this.headers = Object.fromEntries(
      Object.entries(headers ?? {}).map(([name, value]) => [name, resolveSecret(value, `headers.${name}`)]),
    );
  }

  async instant(query: string): Promise<Series[]> {
    return this.call('/api/v1/query', { query });
  }

  async range(query: string, startSeconds: number, endSeconds: number, stepSeconds: number): Promise<Series[]> {
    return this.call('/api/v1/query_range', {
      query,
      start: String(startSeconds),
      end: String(endSeconds),
      step: String(stepSeconds),
    });
  }

  private async call(path: string, params: Record<string, string>): Promise<Series[]> {
    const signals = [AbortSignal.timeout(this.timeoutMs), ...(this.signal ? [this.signal] : [])];
    const response = await fetch(`${this.address}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.headers },
      body: new URLSearchParams(params),
      signal: AbortSignal.any(signals),
    });
    const text = await response.text();
    let answer: ApiAnswer;
    try {
      answer = JSON.parse(text) as ApiAnswer;
    } catch {
      throw new Error(`Prometheus at ${this.address} answered ${response.status} with no JSON: ${text.slice(0, 200)}`);
    }
    if (answer.status !== 'success' || !answer.data) {
      if (answer.errorType === 'bad_data') throw new QueryRejected(answer.errorType, answer.error ?? 'bad query');
      throw new Error(
        `Prometheus at ${this.address} answered ${response.status}: ${answer.errorType ?? ''} ${answer.error ?? ''}`.trim(),
      );
    }
    return toSeries(answer.data.resultType, answer.data.result);
  }
}

function toSeries(resultType: string, result: unknown): Series[] {
  const number = (value: unknown) => Number(value);
  switch (resultType) {
    case 'scalar': {
      const [, value] = result as [number, string];
      return [{ labels: {}, values: [number(value)] }];
    }
    case 'vector':
      return (result as { metric: Record<string, string>; value: [number, string] }[]).map((entry) => ({
        labels: entry.metric,
        values: [number(entry.value[1])],
      }));
    case 'matrix':
      return (result as { metric: Record<string, string>; values: [number, string][] }[]).map((entry) => ({
        labels: entry.metric,
        values: entry.values.map(([, value]) => number(value)),
      }));
    default:
      throw new Error(`a query must return numbers; this one returned a ${resultType}`);
  }
}

/** `{version="2.0.0", instance="..."}`, for messages. */
export function describeLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length ? `{${entries.map(([key, value]) => `${key}="${value}"`).join(', ')}}` : '{}';
}
