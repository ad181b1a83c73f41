import type { z } from 'zod';
import type { FlagSnapshot } from '../../domain/flags';
import type { ExecFlags, SetFlagStep } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { runExecStepOrFail } from '../exec/exec-step';
import { OUTPUT_TAIL_BYTES } from '../exec/run-command';
import type { FlagProvider } from './flag-provider';

/**
 * Flags through the user's own commands, with TOLLGATE_FLAG and TOLLGATE_FENCE set like every exec
 * step: `read` prints the flag's state as JSON, `set` applies TOLLGATE_FLAG_PERCENTAGE (and
 * _VARIANT, _SEGMENT, _STICKINESS), `restore` puts back TOLLGATE_FLAG_STATE.
 */
export class ExecFlagProvider implements FlagProvider {
  readonly type = 'exec';

  constructor(private readonly config: z.infer<typeof ExecFlags>) {}

  async read(ctx: ProviderContext, flag: string): Promise<FlagSnapshot> {
    const result = await runExecStepOrFail(ctx, this.config, 'readFlag', this.config.read, { TOLLGATE_FLAG: flag });
    const output = result.stdoutTail.trim();
    try {
      if (output.length >= OUTPUT_TAIL_BYTES) throw new Error('too long');
      return { flag, state: JSON.parse(output) as unknown };
    } catch {
      throw new ProviderError(
        `flags.read "${this.config.read}" must print flag ${flag}'s state as JSON of under ${OUTPUT_TAIL_BYTES} bytes on stdout; it printed: ${output.slice(0, 200) || 'nothing'}`,
        false,
      );
    }
  }

  async set(ctx: ProviderContext, change: SetFlagStep): Promise<void> {
    await runExecStepOrFail(ctx, this.config, 'setFlag', this.config.set, {
      TOLLGATE_FLAG: change.flag,
      TOLLGATE_FLAG_PERCENTAGE: change.percentage,
      TOLLGATE_FLAG_VARIANT: change.variant,
      TOLLGATE_FLAG_SEGMENT: change.segment,
      TOLLGATE_FLAG_STICKINESS: change.stickiness,
    });
  }

  async restore(ctx: ProviderContext, snapshot: FlagSnapshot): Promise<void> {
    await runExecStepOrFail(ctx, this.config, 'restoreFlag', this.config.restore, {
      TOLLGATE_FLAG: snapshot.flag,
      TOLLGATE_FLAG_STATE: JSON.stringify(snapshot.state),
    });
  }
}
