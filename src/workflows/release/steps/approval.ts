import { toMillis } from '../../../domain/duration';
import type { PlanStep } from '../../../domain/plan';
import type { ReleaseContext } from '../context';
import { TOLLGATE_ACTOR } from '../state';
import { RollbackRequested, StopRelease } from '../stop-reasons';

export type ApprovalStep = Extract<PlanStep, { kind: 'approval' }>;

/**
 * approval: waits for the quorum, a rejection, or the approvals timeout. The decisions arrive as
 * updates (src/workflows/release/controls.ts), which refuse what may not decide.
 * `index` is the step's place in the plan; -1 for the contract's approval.
 */
export async function awaitApproval(ctx: ReleaseContext, index: number, step: ApprovalStep): Promise<void> {
  const { spec, release } = ctx;
  const timeoutMs = toMillis(spec.approvals.timeout);
  release.setPendingApproval({
    stepIndex: index,
    label: step.label,
    from: step.approval.from,
    quorum: step.approval.quorum,
    approvals: [],
    deadline: new Date(Date.now() + timeoutMs).toISOString(),
  });
  const decided = await release.waitUntil(
    () =>
      release.asked.rejection !== undefined ||
      (release.status.pendingApproval?.approvals.length ?? 0) >= step.approval.quorum,
    timeoutMs,
    { summary: `await ${step.label}` },
  );
  release.setPendingApproval(undefined);
  const { rejection } = release.asked;
  if (rejection) throw new RollbackRequested(`rejected by ${rejection.actor}: ${rejection.reason}`, rejection.actor);
  if (!decided) {
    const why = `no decision on "${step.label}" within ${spec.approvals.timeout}`;
    if (spec.approvals.onTimeout === 'fail')
      throw new StopRelease(`${why}; stopped where it stands (approvals.onTimeout: fail)`);
    throw new RollbackRequested(`${why} (approvals.onTimeout: rollback)`, TOLLGATE_ACTOR);
  }
}
