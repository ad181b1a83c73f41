import { z } from 'zod';
import { FailureType } from '../../domain/failures';
import { ProviderError } from '../context';
import { resolveSecret } from '../secrets';

/** One activation strategy of a flag in one environment, as the Admin API returns and takes it. */
export const UnleashStrategy = z.object({
  id: z.string(),
  name: z.string(),
  title: z.string().nullish(),
  disabled: z.boolean().nullish(),
  sortOrder: z.number().nullish(),
  constraints: z.array(z.unknown()).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  variants: z.array(z.unknown()).optional(),
  segments: z.array(z.number()).optional(),
});
export type UnleashStrategy = z.infer<typeof UnleashStrategy>;

/** A flag in one environment: on or off, and its strategies (an enabled flag with none is on for no one). */
export const UnleashFlagState = z.object({ enabled: z.boolean(), strategies: z.array(UnleashStrategy) });
export type UnleashFlagState = z.infer<typeof UnleashFlagState>;

const FeatureAnswer = z.object({
  environments: z.array(z.object({ name: z.string(), enabled: z.boolean(), strategies: z.array(UnleashStrategy) })),
});
const SegmentsAnswer = z.object({ segments: z.array(z.object({ id: z.number(), name: z.string() })) });

/** What a strategy write sends: everything but its id. */
export type StrategyBody = Omit<UnleashStrategy, 'id'>;

/**
 * The few calls of Unleash's Admin API a flag step needs
 * (/api/admin/projects/:project/features/:flag/environments/:environment/...).
 */
export class UnleashAdminApi {
  private readonly url: string;
  private readonly token: string;
  private readonly project: string;

  constructor(
    config: { url: string; token: string; project: string },
    private readonly environment: string,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal,
  ) {
    this.url = `${resolveSecret(config.url, 'flags.url').replace(/\/$/, '')}/api/admin`;
    this.token = resolveSecret(config.token, 'flags.token');
    this.project = config.project;
  }

  async flagState(flag: string): Promise<UnleashFlagState> {
    const answer = FeatureAnswer.parse(await this.call('GET', this.featurePath(flag), undefined, `flag ${flag}`));
    const environment = answer.environments.find((candidate) => candidate.name === this.environment);
    if (!environment)
      throw new ProviderError(
        `Unleash project ${this.project} has no environment "${this.environment}" for flag ${flag} ` +
          `(it has: ${answer.environments.map((candidate) => candidate.name).join(', ') || 'none'}); set flags.environment`,
        false,
      );
    return { enabled: environment.enabled, strategies: environment.strategies };
  }

  async segmentId(name: string): Promise<number> {
    const answer = SegmentsAnswer.parse(await this.call('GET', '/segments', undefined, 'segments'));
    const segment = answer.segments.find((candidate) => candidate.name === name);
    if (!segment)
      throw new ProviderError(
        `Unleash has no segment "${name}" (it has: ${answer.segments.map((candidate) => candidate.name).join(', ') || 'none'}); create it or fix setFlag.segment`,
        false,
      );
    return segment.id;
  }

  async addStrategy(flag: string, strategy: StrategyBody): Promise<void> {
    await this.call('POST', `${this.environmentPath(flag)}/strategies`, strategy, `flag ${flag}`);
  }

  async updateStrategy(flag: string, id: string, strategy: StrategyBody): Promise<void> {
    await this.call(
      'PUT',
      `${this.environmentPath(flag)}/strategies/${encodeURIComponent(id)}`,
      strategy,
      `flag ${flag}`,
    );
  }

  async deleteStrategy(flag: string, id: string): Promise<void> {
    await this.call(
      'DELETE',
      `${this.environmentPath(flag)}/strategies/${encodeURIComponent(id)}`,
      undefined,
      `flag ${flag}`,
    );
  }

  async setEnabled(flag: string, enabled: boolean): Promise<void> {
    await this.call('POST', `${this.environmentPath(flag)}/${enabled ? 'on' : 'off'}`, undefined, `flag ${flag}`);
  }

  private featurePath(flag: string): string {
    return `/projects/${encodeURIComponent(this.project)}/features/${encodeURIComponent(flag)}`;
  }

  private environmentPath(flag: string): string {
    return `${this.featurePath(flag)}/environments/${encodeURIComponent(this.environment)}`;
  }

  private async call(method: string, path: string, body: unknown, what: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: this.token, 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.signal]),
      });
    } catch (err) {
      throw new ProviderError(`could not reach Unleash at ${this.url} for ${what}: ${(err as Error).message}`);
    }
    const text = await response.text();
    if (response.ok) return text ? (JSON.parse(text) as unknown) : undefined;
    const detail = `${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`;
    if (response.status === 401 || response.status === 403)
      throw new ProviderError(
        `Unleash refused the token for ${what} (${detail}); flags.token must name an Admin API token with access to project ${this.project}`,
        false,
        FailureType.ProviderError,
      );
    if (response.status === 404)
      throw new ProviderError(
        `Unleash has no ${what} in project ${this.project} (${detail}); create it in Unleash first, or fix the name`,
        false,
      );
    // 409 and 5xx may pass (a concurrent change, a restarting server); a bad request will not.
    throw new ProviderError(`Unleash answered ${detail}`, response.status >= 500 || response.status === 409);
  }
}
