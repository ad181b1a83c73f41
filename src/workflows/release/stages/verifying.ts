import { toMillis } from '../../../domain/duration';
import { verificationFailure, type CheckResult } from '../../../domain/verification';
import type { ReleaseContext } from '../context';
import { TOLLGATE_ACTOR } from '../state';
import { atStepBoundary } from '../step-boundary';
import { RollbackRequested } from '../stop-reasons';

/**
 * Verifying: the spec's smoke checks, right after the new version took all traffic and before the
 * bake. A check that still fails after its attempts rolls the release back, and the outcome names
 * it. A spec without `verification` never comes here, so its history is unchanged.
 */
export async function verifying(ctx: ReleaseContext): Promise<void> {
  const { input, spec, release, activities } = ctx;
  const { verification } = spec;
  if (!verification) return;
  await atStepBoundary(ctx);
  release.enterStage(
    'Verifying',
    `${verification.checks.length} smoke check${verification.checks.length === 1 ? '' : 's'}: ${verification.checks.map((check) => check.name).join(', ')}`,
  );
  release.flush();
  // One at a time, in the order written: a later check may rely on an earlier one (health before login).
  const checks: CheckResult[] = [];
  for (const check of verification.checks) {
    const result = await activities.measure.runSmokeCheck.executeWithOptions(
      {
        summary: `smoke check ${check.name}`,
        startToCloseTimeout:
          verification.attempts *
            (toMillis(check.http?.timeout ?? check.exec?.timeout ?? '1m') + toMillis(verification.interval)) +
          toMillis(spec.execution.stepTimeout),
      },
      [
        {
          facts: release.facts,
          check,
          attempts: verification.attempts,
          interval: verification.interval,
          stepId: `${input.releaseId}/verify/${check.name}`,
        },
      ],
    );
    checks.push(result);
    release.emit('verification', `${result.passed ? 'passed' : 'failed'}: ${check.name}: ${result.message}`);
    if (!result.passed) break;
  }
  const failed = checks.find((check) => !check.passed);
  const result = { passed: !failed, checks, ...(failed ? { failedCheck: failed.name } : {}) };
  release.setVerification(result);
  if (failed) throw new RollbackRequested(verificationFailure(result), TOLLGATE_ACTOR);
}
