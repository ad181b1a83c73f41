import { ApplicationFailure } from '@temporalio/activity';
import type { ReleaseFacts } from '../domain/release';
import type { TrafficProvider } from '../domain/spec';
import type { ActivityDeps } from './deps';
import { callProvider } from './provider-call';

export interface SetWeightRequest {
  facts: ReleaseFacts;
  config: TrafficProvider;
  weight: number;
  previousWeight: number;
  stepId: string;
  /** Set when this call undoes a step: it then retries until it succeeds or the rollback times out. */
  compensating?: boolean;
}

export interface SetWeightResult {
  weight: number;
  /** true: read back and confirmed; null: this router cannot read weights back. */
  verified: boolean | null;
}

export function createTrafficActivities(deps: ActivityDeps) {
  return {
    /** Sets the new version's share of traffic, then reads it back where the router can. */
    async setWeight({ facts, config, weight, previousWeight, stepId, compensating }: SetWeightRequest): Promise<SetWeightResult> {
      return callProvider(deps, facts, stepId, async (ctx) => {
        const router = deps.providers.trafficRouter(config);
        await router.setWeight(ctx, weight, previousWeight);
        const verified = await router.verifyWeight(ctx, weight);
        if (verified === false) {
          // Retried: a router applying the change lazily settles; one that does not fails the step.
          throw ApplicationFailure.retryable(`${router.type} reports a weight other than ${weight}% after setting it`, 'WeightNotVerified');
        }
        return { weight, verified: verified ?? null };
      }, { compensating });
    },
  };
}
