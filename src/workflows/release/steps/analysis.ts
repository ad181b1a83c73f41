import { CancellationScope, isCancellation } from '@temporalio/workflow';
import { combineVerdicts, type TemplateResult } from '../../../domain/analysis';
import { toMillis } from '../../../domain/duration';
import type { PlanStep } from '../../../domain/plan';
import type { ReleaseContext } from '../context';
import { TOLLGATE_ACTOR } from '../state';
import { RollbackRequested } from '../stop-reasons';

export type AnalysisStep = Extract<PlanStep, { kind: 'analysis' }>;

/**
 * analysis: runs the step's templates. Failed rolls back; Inconclusive waits for a person to
 * promote (go on), extend (measure again) or roll back; Successful goes on.
 */
export async function analyse(ctx: ReleaseContext, index: number, step: AnalysisStep): Promise<void> {
  const { release } = ctx;
  const durationMs = step.analysis.duration ? toMillis(step.analysis.duration) : undefined;
  for (let round = 0; ; round++) {
    const { verdict, summary } = await measureOnce(ctx, index, step, durationMs, round);
    if (verdict === 'Failed' || verdict === 'Error')
      throw new RollbackRequested(`analysis ${verdict.toLowerCase()}: ${summary}`, TOLLGATE_ACTOR);
    if (verdict !== 'Inconclusive') return;
    const [promoted, extended] = [release.asked.promotions, release.asked.extensions];
    release.setHold({
      open: false,
      reason: `analysis inconclusive, waiting for a person to promote, extend or roll back: ${summary}`,
    });
    await release.waitUntil(() => release.asked.promotions !== promoted || release.asked.extensions !== extended);
    release.setHold(undefined);
    if (release.asked.promotions !== promoted) return;
  }
}

const failing = (result: TemplateResult) => result.verdict === 'Failed' || result.verdict === 'Error';

/** One run of every template of an analysis step. A failing template cancels the others: the release rolls back at once. */
async function measureOnce(
  ctx: ReleaseContext,
  index: number,
  step: AnalysisStep,
  durationMs: number | undefined,
  round: number,
): Promise<{ verdict: TemplateResult['verdict']; summary: string }> {
  const { input, spec, release, activities } = ctx;
  release.flush(); // an analysis takes a while: put what led to it on record first
  const results: TemplateResult[] = [];
  const analyses = new CancellationScope();
  try {
    await analyses.run(() =>
      Promise.all(
        step.analysis.templates.map(async (name) => {
          const result = await activities.measure.runAnalysis.executeWithOptions(
            {
              summary: `analysis ${name} at ${release.weight}%`,
              startToCloseTimeout: (durationMs ?? 0) + toMillis(spec.execution.stepTimeout),
            },
            [
              {
                facts: release.facts,
                name,
                template: spec.analysis[name],
                durationMs,
                weight: release.weight,
                canary: release.canary,
                stepId: `${input.releaseId}/step-${index}/${name}${round ? `/extension-${round}` : ''}`,
              },
            ],
          );
          results.push(result);
          if (failing(result)) analyses.cancel();
        }),
      ),
    );
  } catch (err) {
    if (!isCancellation(err) || !results.some(failing)) throw err;
  }
  const verdict = combineVerdicts(results.map((result) => result.verdict));
  release.setAnalysis({ stepLabel: step.label, verdict, templates: results, at: new Date().toISOString() });
  const summary = results.map((result) => result.summary).join('; ');
  release.emit('analysis', `analysis ${verdict}: ${summary}`, TOLLGATE_ACTOR, { verdict });
  return { verdict, summary };
}
