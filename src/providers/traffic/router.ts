import type { RouteRequest, RouteSnapshot } from '../../domain/routing';
import type { ProviderContext } from '../context';

/**
 * Splits traffic between the stable version and the new one. After Argo Rollouts' TrafficRoutingReconciler.
 */
export interface TrafficRouter {
  /** The provider's name as written in specs: `traffic.provider`. */
  readonly type: string;
  /**
   * true when every change this router makes goes through `ctx.fenced`: the fenced write itself
   * refuses (and records) an attempt the lane's fence has overtaken before it writes anything, so
   * the activity does not read the fence once more before calling the router. Omitted: the fence is
   * checked before the call (a user's command is trusted to check TOLLGATE_FENCE, not required to).
   */
  readonly writesUnderFence?: boolean;
  /**
   * Sends `request.weight` percent of requests to the new version and the rest to stable. Idempotent:
   * setting the weight in effect changes nothing. Returns the routing as it was before the release's
   * first shift (its baseline), when the router can read it; the release passes it back on every
   * later shift and its rollback restores exactly that.
   */
  setWeight(ctx: ProviderContext, request: RouteRequest): Promise<RouteSnapshot | undefined>;
  /**
   * Reads back the routing in effect and says whether it is what `request` asked for; undefined when
   * this router cannot tell (a user's command), in which case the release trusts setWeight.
   */
  verifyWeight(ctx: ProviderContext, request: RouteRequest): Promise<boolean | undefined>;
}
