import { allHandlersFinished, ApplicationFailure, condition, patched } from '@temporalio/workflow';
import { FailureType } from '../domain/failures';
import type { ReleaseInput, ReleaseResult } from '../domain/release';
import { createReleaseContext } from './release/context';
import { listenToPeopleAndLane } from './release/controls';
import { backfilling } from './release/stages/backfilling';
import { awaitingContract, contracting } from './release/stages/contract';
import { baking } from './release/stages/baking';
import { deploying } from './release/stages/deploying';
import { stopped, succeeded, tellLane } from './release/stages/ending';
import { expanding } from './release/stages/expanding';
import { planning } from './release/stages/planning';
import { queued } from './release/stages/queued';
import { shifting } from './release/stages/shifting';
import { verifying } from './release/stages/verifying';
import { PATCHES } from './release/patches';

/**
 * One release: the state machine of docs/architecture.md, as its runbook.
 *
 *   Queued → Planning → Expanding → Backfilling → Deploying → Shifting → (Verifying) → Baking
 *     → AwaitingContract → Contracting → Succeeded
 *   any stage before Contracting → RollingBack → RolledBack (or Failed when a compensation fails)
 *
 * Every stage is a module in ./release/stages and every step of Shifting one in ./release/steps,
 * over one ReleaseContext. People and the lane reach the release through ./release/controls.
 */
export async function releaseWorkflow(input: ReleaseInput): Promise<ReleaseResult> {
  const ctx = createReleaseContext(input);
  listenToPeopleAndLane(ctx);

  let result: ReleaseResult;
  try {
    await ctx.forwardScope.run(async () => {
      await queued(ctx);
      await planning(ctx);
      await expanding(ctx);
      await backfilling(ctx);
      await deploying(ctx);
      await shifting(ctx);
      await verifying(ctx);
      await baking(ctx);
      await awaitingContract(ctx);
      await contracting(ctx);
    });
    result = succeeded(ctx);
  } catch (err) {
    // A rejection, an abort, a failed analysis or step: roll back (or stop where it stands).
    result = await stopped(ctx, err);
  }

  await tellLane(ctx, result);
  await ctx.release.recorded();
  await condition(allHandlersFinished);
  // Only a Succeeded release completes: a RolledBack or Failed one fails its workflow, with the
  // result as the failure's details (ReleaseClient.result reads it back), so the Temporal UI's
  // list never shows it as the same green "Completed" as a success.
  if (result.outcome !== 'Succeeded' && patched(PATCHES.unsuccessfulReleasesFail)) {
    throw ApplicationFailure.create({
      type: result.outcome === 'RolledBack' ? FailureType.ReleaseRolledBack : FailureType.ReleaseFailed,
      message: `${result.outcome}: ${result.reason ?? 'no reason given'}`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}
