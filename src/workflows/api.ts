import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision } from '../domain/approval';
import type { Freeze, LanePolicy } from '../domain/lane-policy';
import type { DeployWindow } from '../domain/deploy-window';
import type { EndStage } from '../domain/stages';
import type { LaneStatus, ReleaseInput, ReleaseStatus } from '../domain/release';
import type { Proven } from '../domain/decision';
import type { Actor } from '../domain/spec';

/**
 * Messages a release understands. Shared by the workflows and every client (CLI, Slack, HTTP),
 * so a rename is a compile error everywhere at once.
 *
 * Approvals, rejections and rollbacks are updates: the caller gets an answer at once, accepted or
 * refused with a reason, and a refusal leaves the release unchanged.
 * Pause, resume, abort and promote are signals: fire and forget, recorded in the event log.
 */
export interface ActorMessage {
  actor: Actor;
  reason?: string;
  /** Proof of who the actor is (src/domain/decision.ts); the worker checks it before the release acts. */
  proof?: string;
}

export interface ApprovalAnswer {
  /** Approvals still needed before the release moves on. */
  remaining: number;
  message: string;
}

export const approveUpdate = defineUpdate<ApprovalAnswer, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<ApprovalAnswer, [ApprovalDecision & { reason?: string }]>('reject');
export const rollbackUpdate = defineUpdate<{ message: string }, [ActorMessage]>('rollback');

export const pauseSignal = defineSignal<[ActorMessage]>('pause');
export const resumeSignal = defineSignal<[ActorMessage]>('resume');
export const abortSignal = defineSignal<[ActorMessage]>('abort');
/** Skips the current pause (or an inconclusive analysis hold); `full` skips every remaining pause and analysis. */
export const promoteSignal = defineSignal<[ActorMessage & { full?: boolean }]>('promote');

/** Measures an inconclusive analysis step again, for as long as the step asks, instead of deciding now. */
export const extendAnalysisSignal = defineSignal<[ActorMessage]>('extendAnalysis');

export const statusQuery = defineQuery<ReleaseStatus>('status');
/** The release's own input (its spec), so `tollgate retry` can start the same release again. */
export const inputQuery = defineQuery<ReleaseInput>('input');

/** From the lane to its releases. */
export const laneGrantedSignal = defineSignal<[{ stableVersion?: string; policy: LanePolicy }]>('laneGranted');
/** The lane's policy changed (freeze, windows), or a queued release's place in line did. */
export const laneUpdateSignal = defineSignal<[{ policy: LanePolicy; waitingFor?: string }]>('laneUpdate');

/** Messages a lane understands. Enqueue arrives by signal-with-start, so the lane need not exist yet. */
export interface LaneRef {
  service: string;
  environment: string;
}
export const enqueueSignal = defineSignal<[{ releaseId: string; version: string; production?: boolean }]>('enqueue');
export const releaseFinishedSignal =
  defineSignal<[{ releaseId: string; version: string; outcome: EndStage }]>('releaseFinished');
/** Lane decisions carry their proof beside them; the lane keeps the decision, never the proof. */
export const freezeSignal = defineSignal<[Freeze & Proven]>('freeze');
export const unfreezeSignal = defineSignal<[{ by: string; reason: string } & Proven]>('unfreeze');
export const setWindowsSignal = defineSignal<[{ by: string; windows: DeployWindow[] } & Proven]>('setWindows');
/**
 * The same decisions as updates, which clients send: the sender hears whether the lane took it,
 * once the worker has checked who sent it (a signal's refusal reached only the worker's log). The
 * signals stay for clients of earlier versions.
 */
export interface LaneAnswer {
  message: string;
}
export const freezeLaneUpdate = defineUpdate<LaneAnswer, [Freeze & Proven]>('freezeLane');
export const unfreezeLaneUpdate = defineUpdate<LaneAnswer, [{ by: string; reason: string } & Proven]>('unfreezeLane');
export const setLaneWindowsUpdate = defineUpdate<LaneAnswer, [{ by: string; windows: DeployWindow[] } & Proven]>(
  'setLaneWindows',
);
export const laneStatusQuery = defineQuery<LaneStatus>('laneStatus');
