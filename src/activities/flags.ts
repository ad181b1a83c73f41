import type { FlagSnapshot } from '../domain/flags';
import type { Fence } from '../domain/fence';
import type { ReleaseFacts } from '../domain/release-facts';
import type { FlagProvider, SetFlagStep } from '../domain/spec';
import type { ActivityDeps } from './deps';
import { callProvider } from './provider-call';

interface FlagRequest {
  facts: ReleaseFacts;
  config: FlagProvider;
  stepId: string;
}

export interface ReadFlagRequest extends FlagRequest {
  flag: string;
}

export interface SetFlagRequest extends FlagRequest {
  change: SetFlagStep;
  /** The lane's fencing token for this change (src/domain/fence.ts). */
  fence?: Fence;
}

export interface RestoreFlagRequest extends FlagRequest {
  snapshot: FlagSnapshot;
  fence?: Fence;
}

/** setFlag steps: read a flag before changing it, change it, and put the reading back on rollback. */
export function createFlagActivities(deps: ActivityDeps) {
  const provider = (config: FlagProvider, facts: ReleaseFacts) =>
    deps.providers.flagProvider(config, facts.environment);
  return {
    /** The flag's state before a step changes it: what the step's compensation restores. Changes nothing. */
    async readFlag({ facts, config, stepId, flag }: ReadFlagRequest): Promise<FlagSnapshot> {
      return callProvider(deps, facts, stepId, (ctx) => provider(config, facts).read(ctx, flag));
    },

    async setFlag({ facts, config, stepId, change, fence }: SetFlagRequest): Promise<void> {
      await callProvider(deps, facts, stepId, (ctx) => provider(config, facts).set(ctx, change), {
        fence,
        writer: `${config.provider} flags`,
      });
    },

    async restoreFlag({ facts, config, stepId, snapshot, fence }: RestoreFlagRequest): Promise<void> {
      await callProvider(deps, facts, stepId, (ctx) => provider(config, facts).restore(ctx, snapshot), {
        compensating: true,
        fence,
        writer: `${config.provider} flags`,
      });
    },
  };
}
