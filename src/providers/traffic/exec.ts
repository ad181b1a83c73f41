import type { z } from 'zod';
import type { RouteRequest } from '../../domain/routing';
import type { ExecTraffic } from '../../domain/spec';
import type { ProviderContext } from '../context';
import { runExecStepOrFail } from '../exec/exec-step';
import type { TrafficRouter } from './router';

/** Runs the user's own command with TOLLGATE_WEIGHT (and TOLLGATE_PREVIOUS_WEIGHT) set. */
export class ExecTrafficRouter implements TrafficRouter {
  readonly type = 'exec';

  constructor(private readonly config: z.infer<typeof ExecTraffic>) {}

  async setWeight(ctx: ProviderContext, { weight, previousWeight }: RouteRequest): Promise<undefined> {
    await runExecStepOrFail(ctx, this.config, 'setWeight', this.config.setWeight, {
      TOLLGATE_WEIGHT: weight,
      TOLLGATE_PREVIOUS_WEIGHT: previousWeight,
    });
    return undefined;
  }

  async verifyWeight(): Promise<boolean | undefined> {
    return undefined;
  }
}
