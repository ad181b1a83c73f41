import { Context } from '@temporalio/activity';
import { pipelineHeadIdFor } from '../domain/pipeline';
import { runStartedSignal, type PipelineRunRef } from '../workflows/pipeline/api';
import type { ActivityDeps } from './deps';

export function createPipelineActivities(deps: ActivityDeps) {
  return {
    /**
     * Tells the pipeline's head that a run of this commit began, starting the head if it is the
     * pipeline's first run (signal-with-start). Idempotent: the head ignores a run it knows.
     */
    async joinPipelineHead({ pipeline, run }: { pipeline: string; run: PipelineRunRef }): Promise<void> {
      await deps.temporal.workflow.signalWithStart('pipelineHeadWorkflow', {
        workflowId: pipelineHeadIdFor(pipeline),
        taskQueue: Context.current().info.taskQueue,
        args: [{ pipeline }],
        signal: runStartedSignal,
        signalArgs: [run],
        staticSummary: `Head of pipeline ${pipeline}: the newest commit supersedes older runs`,
      });
    },
  };
}
