import type { AnalysisStep, ApprovalStep, ReleaseSpec, SetFlagStep } from './spec';
import { describeFlagChange } from './flags';
import { updatesInPlace } from './in-place';
import type { RolloutRequest } from './rollout';
import { toMillis } from './duration';

/**
 * The step plan: what the Shifting stage does, in order. Canary, blue-green and rolling all become
 * the same few kinds of step, so the workflow has one loop and one set of compensations.
 */
export type PlanStep =
  | { kind: 'setWeight'; weight: number; label: string }
  | { kind: 'pause'; durationMs?: number; label: string }
  | { kind: 'approval'; approval: ApprovalStep; label: string }
  | { kind: 'analysis'; analysis: AnalysisStep; label: string }
  /** A Deployment updated in place: at least `rollout.updated` of its pods on the new version. */
  | { kind: 'rollout'; rollout: RolloutRequest; label: string }
  /** A feature flag changed through the spec's flag provider (docs/feature-flags.md). */
  | { kind: 'setFlag'; setFlag: SetFlagStep; label: string };

export interface ReleasePlan {
  strategy: 'canary' | 'blueGreen' | 'rolling' | 'recreate';
  steps: PlanStep[];
  /** Watched at 100% before the old version is retired. */
  bakeMs: number;
}

export function planRelease(spec: Pick<ReleaseSpec, 'strategy'> & Partial<Pick<ReleaseSpec, 'deploy'>>): ReleasePlan {
  const { canary, blueGreen, rolling, recreate } = spec.strategy;
  const inPlace = spec.deploy && updatesInPlace(spec.deploy) ? spec.deploy : undefined;
  if (recreate) {
    // Validation requires an in-place deployer for recreate.
    const replicas = inPlace?.replicas ?? 1;
    const steps: PlanStep[] = [
      {
        kind: 'rollout',
        rollout: { updated: replicas, replicas, update: { type: 'Recreate' }, final: true },
        label: `recreate: all ${replicas} replicas replaced at once`,
      },
    ];
    if (recreate.analysis) steps.push(analysis(recreate.analysis));
    return { strategy: 'recreate', steps, bakeMs: bake(recreate.bake) };
  }
  if (rolling && inPlace) {
    // Kubernetes' RollingUpdate on the one Deployment; with an analysis, held after each batch for it.
    const { replicas, maxSurge, maxUnavailable } = rolling;
    const update = { type: 'RollingUpdate' as const, maxSurge, maxUnavailable };
    const batches = rolling.analysis ? Math.ceil(replicas / maxSurge) : 1;
    const steps: PlanStep[] = [];
    for (let batch = 1; batch <= batches; batch++) {
      const final = batch === batches;
      const updated = final ? replicas : batch * maxSurge;
      steps.push({
        kind: 'rollout',
        rollout: { updated, replicas, update, final },
        label: final
          ? `rolling update: all ${replicas} replicas`
          : `batch ${batch}/${batches}: at least ${updated} of ${replicas} replaced`,
      });
      if (!final && rolling.analysis) steps.push(analysis(rolling.analysis));
    }
    return { strategy: 'rolling', steps, bakeMs: bake(rolling.bake) };
  }
  if (canary) {
    const steps: PlanStep[] = canary.steps.map((step): PlanStep => {
      if (step.setWeight !== undefined) return setWeight(step.setWeight);
      if (step.pause) {
        return step.pause.duration
          ? { kind: 'pause', durationMs: toMillis(step.pause.duration), label: `pause ${step.pause.duration}` }
          : { kind: 'pause', label: 'pause until promoted' };
      }
      if (step.approval) return approval(step.approval);
      if (step.analysis) return analysis(step.analysis);
      if (step.setFlag)
        return { kind: 'setFlag', setFlag: step.setFlag, label: `setFlag ${describeFlagChange(step.setFlag)}` };
      throw new Error('unreachable: the schema allows exactly one key per step');
    });
    return { strategy: 'canary', steps: withFullPromotion(steps), bakeMs: bake(canary.bake) };
  }
  if (blueGreen) {
    const steps: PlanStep[] = [];
    if (blueGreen.prePromotionAnalysis) steps.push(analysis(blueGreen.prePromotionAnalysis));
    if (blueGreen.approval) steps.push(approval(blueGreen.approval));
    steps.push({ kind: 'setWeight', weight: 100, label: 'switch to green' });
    if (blueGreen.postPromotionAnalysis) steps.push(analysis(blueGreen.postPromotionAnalysis));
    return { strategy: 'blueGreen', steps, bakeMs: bake(blueGreen.bake) };
  }
  if (rolling) {
    const steps: PlanStep[] = [];
    const batches = Math.ceil(rolling.replicas / rolling.maxSurge);
    for (let batch = 1; batch <= batches; batch++) {
      const replaced = Math.min(batch * rolling.maxSurge, rolling.replicas);
      const weight = Math.round((100 * replaced) / rolling.replicas);
      steps.push({
        kind: 'setWeight',
        weight,
        label: `batch ${batch}/${batches}: ${replaced} of ${rolling.replicas} replaced`,
      });
      if (rolling.analysis && batch < batches) steps.push(analysis(rolling.analysis));
    }
    return { strategy: 'rolling', steps, bakeMs: bake(rolling.bake) };
  }
  throw new Error('unreachable: the schema requires exactly one strategy');
}

/** As in Argo Rollouts, a canary whose last step leaves it below 100% is fully promoted at the end. */
function withFullPromotion(steps: PlanStep[]): PlanStep[] {
  const last = [...steps].reverse().find((step) => step.kind === 'setWeight');
  if (last && last.kind === 'setWeight' && last.weight === 100) return steps;
  return [...steps, { kind: 'setWeight', weight: 100, label: 'full promotion: setWeight 100' }];
}

function setWeight(weight: number): PlanStep {
  return { kind: 'setWeight', weight, label: `setWeight ${weight}` };
}

function approval(step: ApprovalStep): PlanStep {
  return {
    kind: 'approval',
    approval: step,
    label: `approval from ${step.from.join(', ')}${step.quorum > 1 ? ` (${step.quorum} needed)` : ''}`,
  };
}

function analysis(step: AnalysisStep): PlanStep {
  return {
    kind: 'analysis',
    analysis: step,
    label: `analysis ${step.templates.join(', ')}${step.duration ? ` for ${step.duration}` : ''}`,
  };
}

function bake(duration: string | undefined): number {
  return duration ? toMillis(duration) : 0;
}
