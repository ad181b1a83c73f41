import type { Measurement } from '../src/domain/analysis';
import type { ProviderRegistry } from '../src/providers/registry';

/**
 * Providers that do nothing, at once: what remains of a release's duration is Tollgate's own
 * orchestration (workflow tasks, activity round trips, history, audit writes).
 */
export function instantProviders(): ProviderRegistry {
  return {
    deployer: () => ({ type: 'instant', deploy: async () => undefined, undeploy: async () => {} }),
    // Like Tollgate's own routers, it writes (nothing) under the lane's fence: a step pays for its fenced write.
    trafficRouter: () => ({
      type: 'instant',
      writesUnderFence: true,
      setWeight: async (ctx) => (ctx.fenced ? ctx.fenced(async () => undefined) : undefined),
      verifyWeight: async () => true,
    }),
    metricSource: () => ({
      type: 'instant',
      measure: async (): Promise<Measurement> => ({
        at: new Date().toISOString(),
        phase: 'Successful',
        message: 'instant',
      }),
    }),
    flagProvider: () => ({
      type: 'instant',
      read: async (_ctx, flag) => ({ flag, state: {} }),
      set: async () => {},
      restore: async () => {},
    }),
  };
}
