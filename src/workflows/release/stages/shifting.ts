import type { PlanStep } from '../../../domain/plan';
import type { ReleaseContext } from '../context';
import { atStepBoundary } from '../step-boundary';
import { analyse } from '../steps/analysis';
import { awaitApproval } from '../steps/approval';
import { pause } from '../steps/pause';
import { rollout } from '../steps/rollout';
import { setFlag } from '../steps/set-flag';
import { setWeight } from '../steps/set-weight';

/** Shifting: the strategy's steps in order (setWeight, setFlag, pause, analysis, approval), each after the step boundary's gates. */
export async function shifting(ctx: ReleaseContext): Promise<void> {
  const { plan, release } = ctx;
  release.enterStage('Shifting', `${plan.steps.length} steps`);
  for (const [index, step] of plan.steps.entries()) {
    await atStepBoundary(ctx);
    if (release.asked.fullPromotion && (step.kind === 'pause' || step.kind === 'analysis')) {
      release.finishStep(index, 'skipped');
      continue;
    }
    release.startStep(index);
    await runStep(ctx, index, step);
    release.finishStep(index);
  }
}

async function runStep(ctx: ReleaseContext, index: number, step: PlanStep): Promise<void> {
  switch (step.kind) {
    case 'setWeight':
      return setWeight(ctx, index, step.weight);
    case 'pause':
      return pause(ctx, step.durationMs);
    case 'approval':
      return awaitApproval(ctx, index, step);
    case 'analysis':
      return analyse(ctx, index, step);
    case 'rollout':
      return rollout(ctx, index, step.rollout);
    case 'setFlag':
      return setFlag(ctx, index, step.setFlag);
  }
}
