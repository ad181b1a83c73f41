import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType } from '../domain/failures';
import { pipelineHeadIdFor, promotionRefusal, type PipelineInput, type PipelineResult } from '../domain/pipeline';
import { runEndedSignal } from './pipeline/api';
import { listenToPeopleAndHead } from './pipeline/controls';
import { releaseInto } from './pipeline/environment';
import { passGate, stopAsked, type RunStop } from './pipeline/gates';
import { PipelineRun } from './pipeline/state';

const { joinPipelineHead } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/**
 * One pipeline run: one commit through the service's environments in order (staging →
 * production), each released by a child release workflow with its own lane, history and rollback.
 *
 *   for each environment:
 *     automatic gate (the previous environment Succeeded and its verification passed)
 *     → soak → deploy window → approval         (./pipeline/gates.ts)
 *     → superseded by a newer commit? stop       (the head, ./pipeline-head.ts)
 *     → release into it as a child               (./pipeline/environment.ts)
 *
 * A failure stops the run where it is: an environment that succeeded stays released (a failed
 * production release does not undo staging).
 */
export async function pipelineWorkflow(input: PipelineInput): Promise<PipelineResult> {
  const run = new PipelineRun(input);
  listenToPeopleAndHead(run);
  await joinPipelineHead.executeWithOptions({ summary: `join head of ${input.pipeline}` }, [
    {
      pipeline: input.pipeline,
      run: { pipelineId: input.pipelineId, sha: input.commit.sha, committedAt: input.commit.committedAt },
    },
  ]);

  let stop: RunStop | undefined;
  for (const [index, stage] of input.stages.entries()) {
    if (index > 0) {
      const previous = run.environment(index - 1);
      const refusal = promotionRefusal(previous);
      if (refusal) {
        stop = { outcome: 'Failed', reason: `stopped before ${stage.environment}: ${refusal}` };
        break;
      }
    }
    stop = stopAsked(run) ?? (await passGate(run, index));
    if (stop) {
      stop = { ...stop, reason: `${stop.reason}; stopped before ${stage.environment}` };
      break;
    }
    const result = await releaseInto(run, index);
    run.finishEnvironment(index, {
      state: result.outcome,
      reason: result.reason,
      ...(result.verification ? { verification: result.verification } : {}),
    });
    run.emit(`${stage.environment}: ${result.outcome}${result.reason ? `: ${result.reason}` : ''}`, stage.environment);
  }
  if (!stop) {
    const last = run.environment(input.stages.length - 1);
    if (last.state !== 'Succeeded')
      stop = { outcome: 'Failed', reason: `${last.environment} ${last.state}${last.reason ? `: ${last.reason}` : ''}` };
  }
  run.finish(stop?.outcome ?? 'Succeeded', stop?.reason);
  await leaveHead(input);
  await run.recorded();
  await condition(allHandlersFinished);

  const result: PipelineResult = {
    pipelineId: input.pipelineId,
    outcome: run.status.outcome?.outcome ?? 'Succeeded',
    ...(stop?.reason ? { reason: stop.reason } : {}),
    ...(stop?.supersededBy ? { supersededBy: stop.supersededBy } : {}),
    environments: run.status.environments,
  };
  // A run that failed or was rejected fails its workflow (red in the Temporal UI), with its result
  // as the failure's details; a superseded run did what it should and completes.
  if (result.outcome === 'Failed' || result.outcome === 'Rejected')
    throw ApplicationFailure.create({
      type: FailureType.PipelineStopped,
      message: `${result.outcome}: ${result.reason ?? 'no reason given'}`,
      nonRetryable: true,
      details: [result],
    });
  return result;
}

/** Tells the head the run ended, so it stops counting it among the runs still going. */
async function leaveHead(input: PipelineInput): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    try {
      await getExternalWorkflowHandle(pipelineHeadIdFor(input.pipeline)).signal(runEndedSignal, {
        pipelineId: input.pipelineId,
      });
    } catch {
      // The head is gone (terminated by hand): it forgets runs it no longer knows anyway.
    }
  });
}
