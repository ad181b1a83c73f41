import type { ProviderContext } from '../context';

/**
 * Splits traffic between the stable version and the new one. After Argo Rollouts' TrafficRoutingReconciler.
 */
export interface TrafficRouter {
  /** The provider's name as written in specs: `traffic.provider`. */
  readonly type: string;
  /**
   * Sends `weight` percent of requests to the new version and the rest to stable. Idempotent:
   * setting the weight in effect changes nothing. `previousWeight` is what the release last set.
   */
  setWeight(ctx: ProviderContext, weight: number, previousWeight: number): Promise<void>;
  /**
   * Reads back the weight in effect and says whether it is `weight`; undefined when this router
   * cannot tell (a user's command), in which case the release trusts setWeight.
   */
  verifyWeight(ctx: ProviderContext, weight: number): Promise<boolean | undefined>;
}
