import type { FlagSnapshot } from '../../domain/flags';
import type { SetFlagStep, UnleashFlags } from '../../domain/spec';
import { toMillis } from '../../domain/duration';
import type { z } from 'zod';
import { ProviderError, type ProviderContext } from '../context';
import { underFence, type FlagProvider } from './flag-provider';
import { UnleashAdminApi, UnleashFlagState, type StrategyBody } from './unleash-admin-api';

/** Titles of the strategies Tollgate keeps on a flag: one per audience (everyone, or one segment). */
export function managedStrategyTitle(segment: string | undefined): string {
  return segment ? `tollgate: ${segment}` : 'tollgate: everyone';
}

/**
 * Unleash (docs/feature-flags.md): a setFlag step keeps one gradual-rollout strategy (Unleash's
 * flexibleRollout, sticky on `stickiness`, grouped by the flag's name so the same users stay in as
 * the percentage grows) per audience, titled "tollgate: <audience>", and turns the flag on in the
 * environment. Other strategies are left as they are. Restoring puts back the environment's on/off
 * and its strategies exactly as read.
 */
export class UnleashFlagProvider implements FlagProvider {
  readonly type = 'unleash';

  constructor(
    private readonly config: z.infer<typeof UnleashFlags>,
    /** The release's environment: the Unleash environment unless the spec names another. */
    private readonly releaseEnvironment: string,
  ) {}

  async read(ctx: ProviderContext, flag: string): Promise<FlagSnapshot> {
    return { flag, state: await this.api(ctx).flagState(flag) };
  }

  async set(ctx: ProviderContext, change: SetFlagStep): Promise<void> {
    const api = this.api(ctx);
    const segments = change.segment ? [await api.segmentId(change.segment)] : [];
    await underFence(ctx, async () => {
      const state = await api.flagState(change.flag);
      const title = managedStrategyTitle(change.segment);
      const strategy: StrategyBody = {
        name: 'flexibleRollout',
        title,
        disabled: false,
        constraints: [],
        parameters: { rollout: String(change.percentage), stickiness: change.stickiness, groupId: change.flag },
        variants: change.variant
          ? [{ name: change.variant, weight: 1000, weightType: 'variable', stickiness: change.stickiness }]
          : [],
        segments,
      };
      const managed = state.strategies.find((candidate) => candidate.title === title);
      if (managed) await api.updateStrategy(change.flag, managed.id, { ...strategy, sortOrder: managed.sortOrder });
      else await api.addStrategy(change.flag, strategy);
      if (!state.enabled) await api.setEnabled(change.flag, true);
    });
  }

  async restore(ctx: ProviderContext, snapshot: FlagSnapshot): Promise<void> {
    const parsed = UnleashFlagState.safeParse(snapshot.state);
    if (!parsed.success)
      throw new ProviderError(`the saved state of flag ${snapshot.flag} is not an Unleash flag state`, false);
    const before = parsed.data;
    const api = this.api(ctx);
    await underFence(ctx, async () => {
      const now = await api.flagState(snapshot.flag);
      const kept = new Set(before.strategies.map((strategy) => strategy.id));
      const present = new Set(now.strategies.map((strategy) => strategy.id));
      // Strategies added since (Tollgate's, or created again by an earlier attempt of this restore) go first.
      for (const strategy of now.strategies.filter((candidate) => !kept.has(candidate.id)))
        await api.deleteStrategy(snapshot.flag, strategy.id);
      for (const { id, ...strategy } of before.strategies) {
        if (present.has(id)) await api.updateStrategy(snapshot.flag, id, strategy);
        else await api.addStrategy(snapshot.flag, strategy);
      }
      if (now.enabled !== before.enabled) await api.setEnabled(snapshot.flag, before.enabled);
    });
  }

  private api(ctx: ProviderContext): UnleashAdminApi {
    return new UnleashAdminApi(
      this.config,
      this.config.environment ?? this.releaseEnvironment,
      toMillis(this.config.timeout),
      ctx.signal,
    );
  }
}
