import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { enqueueSignal } from '../workflows/api';
import type { ActivityDeps } from './deps';

export interface JoinLaneRequest {
  laneId: string;
  service: string;
  environment: string;
  releaseId: string;
  version: string;
  /** The release's spec marks its environment as production: so does the lane from then on. */
  production?: boolean;
}

export function createLaneActivities(deps: ActivityDeps) {
  return {
    /**
     * Puts a release in its lane's queue, starting the lane if it is the first release of that
     * service and environment (signal-with-start). Idempotent: the lane ignores a release it knows.
     */
    async joinLane({ laneId, service, environment, releaseId, version, production }: JoinLaneRequest): Promise<void> {
      await deps.temporal.workflow.signalWithStart('laneWorkflow', {
        workflowId: laneId,
        taskQueue: Context.current().info.taskQueue,
        args: [{ service, environment }],
        signal: enqueueSignal,
        signalArgs: [{ releaseId, version, ...(production ? { production } : {}) }],
        staticSummary: `Lane of ${service} in ${environment}: one release at a time`,
      });
    },

    /** Is this workflow still running? The lane asks about a release that has gone quiet. */
    async isWorkflowRunning(workflowId: string): Promise<boolean> {
      try {
        const description = await deps.temporal.workflow.getHandle(workflowId).describe();
        return description.status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || (err as Error).name === 'WorkflowNotFoundError') return false;
        throw err;
      }
    },
  };
}
