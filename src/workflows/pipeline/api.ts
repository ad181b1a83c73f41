import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PipelineHeadStatus, PipelineStatus } from '../../domain/pipeline';

/**
 * Messages of pipeline runs and of their per-pipeline head, shared by the workflows and every
 * client. Promotions are approved and rejected with the release's own updates (approveUpdate,
 * rejectUpdate in ../api.ts), so `tollgate approve <pipeline id>` and the Slack buttons work as
 * for a release; abort (../api.ts) stops a run before its next environment.
 */
export const pipelineStatusQuery = defineQuery<PipelineStatus>('pipelineStatus');

/** From the head to a run: a newer commit's run started; stop before the next environment. */
export const supersededSignal = defineSignal<[{ by: string; pipelineId: string }]>('superseded');

/** From a run to its head (signal-with-start): a run of this commit began, or ended. */
export interface PipelineRunRef {
  pipelineId: string;
  sha: string;
  committedAt: string;
}
export const runStartedSignal = defineSignal<[PipelineRunRef]>('runStarted');
export const runEndedSignal = defineSignal<[{ pipelineId: string }]>('runEnded');
export const pipelineHeadStatusQuery = defineQuery<PipelineHeadStatus>('pipelineHeadStatus');
