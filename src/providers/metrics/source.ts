import type { Measurement } from '../../domain/analysis';
import type { Deployment } from '../../domain/deployment';
import type { ProviderContext } from '../context';

/** What a measurement may look at besides the release's facts. */
export interface MeasureTarget {
  /** The new version's share of traffic when measured. */
  weight: number;
  /** Where the new version's instances listen, when its deployer reports them (smoke tests call them directly). */
  canary?: Deployment;
}

/**
 * Takes one measurement of the release's health. After Argo Rollouts' metric providers.
 */
export interface MetricSource {
  /** The provider's name as written in specs: `analysis.<name>.provider`. */
  readonly type: string;
  /**
   * One measurement. Does not throw for a bad reading: it returns Failed (the condition does not
   * hold), Inconclusive (no usable value: empty, NaN) or Error (could not measure), with the evidence
   * in `message`. Throws a non-retryable ProviderError for a template that can never work (a query
   * Prometheus rejects, a condition that does not parse), so the release stops at once.
   */
  measure(ctx: ProviderContext, weight: number, target?: MeasureTarget): Promise<Measurement>;
}
