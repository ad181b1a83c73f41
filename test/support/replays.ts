import fs from 'node:fs';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { testEnv } from './stack-env';

/**
 * Replays a finished workflow's history against today's workflow code: a worker that restarts (or
 * evicts the workflow from its cache) replays it exactly like this, and so does a query of a
 * finished release. Throws DeterminismViolationError when the code would not reproduce its own history.
 */
export async function expectReplays(client: Client, workflowId: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  await Worker.runReplayHistory(
    { workflowBundle: { code: fs.readFileSync(testEnv('workflowBundle'), 'utf8') }, replayName: workflowId },
    history,
    workflowId,
  );
}
