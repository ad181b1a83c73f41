import type { PendingApproval, DecisionRecord } from './approval';
import type { DeployWindow } from './deploy-window';
import type { Actor, ApprovalStep, Commit, ReleaseSpec } from './spec';
import type { EndStage } from './stages';
import type { VerificationResult } from './verification';

/** One environment of a run, resolved by the client from the pipeline file: its full release spec and its gate. */
export interface PipelineStage {
  environment: string;
  spec: ReleaseSpec;
  gate: {
    soak?: string;
    windows: DeployWindow[];
    approval?: ApprovalStep;
  };
}

/** What starts a pipeline run: one commit of one service, through every environment in order. */
export interface PipelineInput {
  pipelineId: string;
  pipeline: string;
  service: string;
  version: string;
  /** The commit being delivered; lead time to production counts from its time. */
  commit: Commit;
  initiator: Actor;
  requestedAt: string;
  stages: PipelineStage[];
  notify?: { slack?: { channel: string } };
}

/**
 * How a run ended. Superseded: a newer commit's run took its place before it entered an
 * environment (nothing it released is undone). Failed: an environment's release did not succeed.
 * Rejected: a person rejected a promotion (or nobody approved it in time).
 */
export type PipelineOutcome = 'Succeeded' | 'Failed' | 'Rejected' | 'Superseded';

export type EnvironmentState = 'pending' | 'gated' | 'releasing' | EndStage | 'skipped';

export interface EnvironmentStatus {
  environment: string;
  state: EnvironmentState;
  /** The child release workflow, once started. */
  releaseId?: string;
  /** What the run waits for before entering (soak, window, approval), while it waits. */
  waitingFor?: string;
  reason?: string;
  verification?: VerificationResult;
  startedAt?: string;
  finishedAt?: string;
}

export interface PipelineResult {
  pipelineId: string;
  outcome: PipelineOutcome;
  reason?: string;
  /** The commit whose run superseded this one. */
  supersededBy?: string;
  environments: EnvironmentStatus[];
}

export interface PipelineEvent {
  at: string;
  environment?: string;
  actor: string;
  message: string;
}

/** What the pipeline's `status` query returns: enough for the CLI and the Slack message. */
export interface PipelineStatus {
  pipelineId: string;
  pipeline: string;
  service: string;
  version: string;
  commit: Commit;
  initiator: Actor;
  /** The environment the run is in or waiting for. */
  current?: string;
  environments: EnvironmentStatus[];
  pendingApproval?: PendingApproval;
  decisions: DecisionRecord[];
  supersededBy?: string;
  outcome?: { outcome: PipelineOutcome; reason?: string };
  startedAt: string;
  updatedAt: string;
  events: PipelineEvent[];
}

/** The per-pipeline head: knows the newest commit and which runs are still going. */
export interface PipelineHeadStatus {
  pipeline: string;
  newest?: { pipelineId: string; sha: string; committedAt: string };
  active: { pipelineId: string; sha: string; committedAt: string }[];
}

/** One run per commit and pipeline: the same request (a CI job run twice) finds the run it started. */
export function pipelineIdFor(pipeline: string, sha: string): string {
  return `pipeline:${pipeline}:${sha}`;
}

export function pipelineHeadIdFor(pipeline: string): string {
  return `pipeline-head:${pipeline}`;
}

/** The automatic gate: the previous environment Succeeded and its post-deploy verification (if any) passed. */
export function promotionRefusal(previous: EnvironmentStatus): string | undefined {
  if (previous.state !== 'Succeeded')
    return `${previous.environment} ${previous.state}${previous.reason ? `: ${previous.reason}` : ''}`;
  if (previous.verification && !previous.verification.passed)
    return `${previous.environment}'s verification failed (${previous.verification.failedCheck})`;
  return undefined;
}
