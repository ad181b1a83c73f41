import type { z } from 'zod';
import type { Measurement } from '../../domain/analysis';
import type { ExecAnalysis } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { runExecStep } from '../exec/exec-step';
import type { MetricSource } from './source';

/** A user's check command: exit 0 is a successful measurement, any other status a failed one. */
export class ExecMetricSource implements MetricSource {
  readonly type = 'exec';

  constructor(private readonly config: z.infer<typeof ExecAnalysis>) {}

  async measure(ctx: ProviderContext, weight: number): Promise<Measurement> {
    const at = new Date().toISOString();
    try {
      const result = await runExecStep(ctx, this.config, 'analysis', this.config.command, { TOLLGATE_WEIGHT: weight });
      const output = (result.stdoutTail || result.stderrTail).split('\n').slice(-3).join(' ').trim();
      if (result.timedOut) return { at, phase: 'Error', message: `"${this.config.command}" timed out` };
      return {
        at,
        phase: result.exitCode === 0 ? 'Successful' : 'Failed',
        value: result.exitCode ?? undefined,
        message: `"${this.config.command}" exited ${result.exitCode}${output ? `: ${output}` : ''}`,
      };
    } catch (err) {
      if (err instanceof ProviderError && !err.retryable) throw err;
      return { at, phase: 'Error', message: `"${this.config.command}" could not run: ${(err as Error).message}` };
    }
  }
}
