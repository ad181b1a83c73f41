import { ParentClosePolicy, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import { deepestMessage } from '../../domain/failures';
import { releaseIdFor, releaseResultOfFailure, type ReleaseInput, type ReleaseResult } from '../../domain/release';
import { queuedReleaseAttributes } from '../../domain/search-attributes';
import { releaseWorkflow } from '../release';
import type { PipelineRun } from './state';

/**
 * Releases the run's version into environment `index` as a child release workflow: it keeps its
 * own lane (one release at a time per environment), its own history and its own rollback, and
 * the Temporal UI shows it under the run. The child's id is the release's usual id, so the same
 * release is never started twice, also by a run that resumes on another worker.
 */
export async function releaseInto(run: PipelineRun, index: number): Promise<ReleaseResult> {
  const { spec, environment } = run.input.stages[index];
  const releaseId = releaseIdFor(spec);
  const release: ReleaseInput = {
    releaseId,
    spec,
    initiator: run.input.initiator,
    requestedAt: new Date().toISOString(),
    attempt: 1,
  };
  run.environment(index).releaseId = releaseId;
  run.enter(index, 'releasing', `releasing ${spec.version} into ${environment} as ${releaseId}`);
  let child;
  try {
    child = await startChild(releaseWorkflow, {
      workflowId: releaseId,
      args: [release],
      // A release runs to its end (or its rollback) even if its pipeline run is terminated.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: queuedReleaseAttributes(spec, run.input.initiator.id),
      staticSummary: `Release ${spec.service} ${spec.version} to ${environment} (pipeline ${run.input.pipeline})`,
      staticDetails: `Pipeline run ${run.input.pipelineId}, commit ${run.input.commit.sha}`,
    });
  } catch (err) {
    // The id is taken: this version was already released into this environment outside the run.
    return {
      releaseId,
      outcome: 'Failed',
      reason: `could not start ${releaseId}: ${deepestMessage(err)} (release a new version, or retry it with tollgate retry)`,
    };
  }
  try {
    return await child.result();
  } catch (err) {
    return releaseResultOfFailure(err) ?? { releaseId, outcome: 'Failed', reason: deepestMessage(err) };
  }
}
