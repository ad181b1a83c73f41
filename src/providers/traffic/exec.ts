import type { z } from 'zod';
import type { ExecTraffic } from '../../domain/spec';
import type { ProviderContext } from '../context';
import { runExecStepOrFail } from '../exec/exec-step';
import type { TrafficRouter } from './router';

/** Runs the user's own command with TOLLGATE_WEIGHT (and TOLLGATE_PREVIOUS_WEIGHT) set. */
export class ExecTrafficRouter implements TrafficRouter {
  readonly type = 'exec';

  constructor(private readonly config: z.infer<typeof ExecTraffic>) {}

  async setWeight(ctx: ProviderContext, weight: number, previousWeight: number): Promise<void> {
    await runExecStepOrFail(ctx, this.config, 'setWeight', this.config.setWeight, {
      TOLLGATE_WEIGHT: weight,
      TOLLGATE_PREVIOUS_WEIGHT: previousWeight,
    });
  }

  async verifyWeight(): Promise<boolean | undefined> {
    return undefined;
  }
}
