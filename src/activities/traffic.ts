import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../domain/failures';
import type { Fence } from '../domain/fence';
import type { ReleaseFacts } from '../domain/release-facts';
import type { RouteRequest, RouteSnapshot } from '../domain/routing';
import type { TrafficProvider } from '../domain/spec';
import type { ActivityDeps } from './deps';
import { callProvider } from './provider-call';

export interface SetWeightRequest extends Partial<Omit<RouteRequest, 'weight' | 'previousWeight'>> {
  facts: ReleaseFacts;
  config: TrafficProvider;
  weight: number;
  previousWeight: number;
  stepId: string;
  /** Set when this call undoes a step: it then retries until it succeeds or the rollback times out. */
  compensating?: boolean;
  /** The lane's fencing token for this change (absent in releases started before fencing). */
  fence?: Fence;
}

export interface SetWeightResult {
  weight: number;
  /** true: read back and confirmed; null: this router cannot read weights back. */
  verified: boolean | null;
  /** The routing before the release's first shift, for the router that reports it; pass it to every later shift. */
  baseline?: RouteSnapshot;
}

export function createTrafficActivities(deps: ActivityDeps) {
  return {
    /** Sets the new version's share of traffic, then reads it back where the router can. */
    async setWeight(request: SetWeightRequest): Promise<SetWeightResult> {
      const { facts, config, stepId, compensating, fence } = request;
      const route: RouteRequest = {
        weight: request.weight,
        previousWeight: request.previousWeight,
        canary: request.canary,
        baseline: request.baseline,
        mode: request.mode ?? 'weights',
      };
      const router = deps.providers.trafficRouter(config);
      return callProvider(
        deps,
        facts,
        stepId,
        async (ctx) => {
          const baseline = route.baseline ?? (await router.setWeight(ctx, route));
          if (route.baseline) await router.setWeight(ctx, route);
          const verified = await router.verifyWeight(ctx, { ...route, baseline });
          if (verified === false) {
            // Retried: a router applying the change lazily settles; one that does not fails the step.
            throw ApplicationFailure.retryable(
              `${router.type} reports a weight other than ${route.weight}% after setting it`,
              FailureType.WeightNotVerified,
            );
          }
          return { weight: route.weight, verified: verified ?? null, ...(baseline ? { baseline } : {}) };
        },
        { compensating, fence, writer: `${config.provider} router`, writesUnderFence: router.writesUnderFence },
      );
    },
  };
}
