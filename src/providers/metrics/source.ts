import type { Measurement } from '../../domain/analysis';
import type { ProviderContext } from '../context';

/**
 * Takes one measurement of the release's health. After Argo Rollouts' metric providers.
 */
export interface MetricSource {
  /** The provider's name as written in specs: `analysis.<name>.provider`. */
  readonly type: string;
  /**
   * One measurement. Does not throw for a bad reading: it returns Failed (the condition does not
   * hold), Inconclusive (no usable value: empty, NaN) or Error (could not measure), with the evidence
   * in `message`. `weight` is the new version's share of traffic when measured.
   */
  measure(ctx: ProviderContext, weight: number): Promise<Measurement>;
}
