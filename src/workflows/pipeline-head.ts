import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { messageOf } from '../domain/failures';
import { pipelineHeadStatusQuery, runEndedSignal, runStartedSignal, supersededSignal } from './pipeline/api';
import { PipelineHead, type HeadInput } from './pipeline/head';

/**
 * One head per pipeline (signal-with-start by each run as it begins): it knows the newest commit
 * and tells older runs still going that they are superseded. Durable like a lane: a run that
 * starts while no worker runs is still ordered, and each run is told once.
 */
export async function pipelineHeadWorkflow(input: HeadInput): Promise<void> {
  const head = new PipelineHead(input);
  setHandler(runStartedSignal, (run) => head.started(run));
  setHandler(runEndedSignal, ({ pipelineId }) => head.ended(pipelineId));
  setHandler(pipelineHeadStatusQuery, () => head.status());
  for (;;) {
    await condition(() => head.toSupersede.size > 0 || workflowInfo().continueAsNewSuggested);
    for (const [pipelineId, by] of head.toSupersede) {
      head.toSupersede.delete(pipelineId);
      try {
        await getExternalWorkflowHandle(pipelineId).signal(supersededSignal, { by: by.sha, pipelineId: by.pipelineId });
      } catch (err) {
        // The run already ended: nothing to stop.
        log.info('superseded run is gone', { pipelineId, error: messageOf(err) });
      }
    }
    if (workflowInfo().continueAsNewSuggested && head.toSupersede.size === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof pipelineHeadWorkflow>({ pipeline: input.pipeline, state: head.state });
    }
  }
}
