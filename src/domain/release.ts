import type { AnalysisResult } from './analysis';
import { FailureType } from './failures';
import type { DecisionRecord, PendingApproval } from './approval';
import type { ReleaseEvent } from './events';
import type { FlagSetting } from './flags';
import type { Gate, LanePolicy } from './lane-policy';
import type { BackfillProgress, MigrationPhase } from './migration-plan';
import type { Actor, ReleaseSpec } from './spec';
import type { EndStage, Stage } from './stages';
import type { VerificationResult } from './verification';

/** What starts a release workflow. The spec is validated before it gets here. */
export interface ReleaseInput {
  releaseId: string;
  spec: ReleaseSpec;
  initiator: Actor;
  /** ISO time the release was asked for: lead time counts from the commit, queue time from here. */
  requestedAt: string;
  /** 1 for the first release of this spec; retries after a rollback count up. */
  attempt: number;
}

export interface ReleaseResult {
  releaseId: string;
  outcome: EndStage;
  reason?: string;
  /** The version serving all traffic when the release ended. */
  stableVersion?: string;
  /** What the post-deploy smoke checks found, when the spec has verification and they ran. */
  verification?: VerificationResult;
}

export interface PauseState {
  by: string;
  at: string;
  reason: string;
}

/** What the `status` query returns: enough for the CLI, the Slack message and a dashboard. */
export interface ReleaseStatus {
  releaseId: string;
  service: string;
  environment: string;
  version: string;
  /** The rollback target, known once the lane has admitted the release. */
  stableVersion?: string;
  initiator: Actor;
  strategy: string;
  stage: Stage;
  /** Percent of traffic on the new version. */
  weight: number;
  step?: { index: number; total: number; label: string };
  steps: { label: string; state: 'pending' | 'running' | 'done' | 'skipped' }[];
  paused?: PauseState;
  /** The lane's freeze and deploy windows as the release knows them: what its next step boundary will check. */
  lanePolicy?: LanePolicy;
  /** A rollback someone asked for, from the moment it was asked (the stage turns RollingBack once the running step stopped). */
  rollbackAsked?: { actor: string; reason: string };
  /** Why the release is not moving (lane frozen, outside a window, paused), and until when. */
  hold?: Extract<Gate, { open: false }>;
  pendingApproval?: PendingApproval;
  /** Every approval decision so far, kept after its step ends (the Slack message shows who approved). */
  decisions: DecisionRecord[];
  lastAnalysis?: AnalysisResult;
  /** The post-deploy smoke checks, once they ran. */
  verification?: VerificationResult;
  outcome?: { stage: EndStage; reason?: string };
  /** The release's pending schema migrations (when the spec has a database) and where each stands. */
  migrations?: MigrationState[];
  /** Backfills declared by the expand migrations, as they progress. */
  backfills?: BackfillProgress[];
  /** Feature flags the release's setFlag steps changed, and where it left each (docs/feature-flags.md). */
  flags?: FlagSetting[];
  /** When the contract began: from then on the release cannot roll back. */
  contractedAt?: string;
  startedAt: string;
  updatedAt: string;
  events: ReleaseEvent[];
}

export interface MigrationState {
  name: string;
  phase: MigrationPhase;
  /** kept: applied, and left in place by a rollback (the old version runs on the expanded schema). */
  state: 'pending' | 'running' | 'applied' | 'kept' | 'reverted';
}

/** Lanes serialise releases per service and environment. */
export function laneIdFor(service: string, environment: string): string {
  return `lane:${service}:${environment}`;
}

/**
 * Release ids are readable and deterministic, so the same request (a Slack retry, a CI job run
 * twice) finds the release it already started instead of starting a second one.
 */
export function releaseIdFor(spec: Pick<ReleaseSpec, 'service' | 'environment' | 'version'>, attempt = 1): string {
  const base = `${spec.service}:${spec.environment}:${spec.version}`;
  return attempt > 1 ? `${base}:retry-${attempt}` : base;
}

export interface LaneStatus {
  laneId: string;
  service: string;
  environment: string;
  stableVersion?: string;
  current?: string;
  queue: string[];
  policy: LanePolicy;
  gate: Gate;
  recent: { releaseId: string; version: string; outcome: EndStage; at: string }[];
}

/** One row of the audit log's releases table, upserted as the release moves. */
export interface ReleaseRecord {
  releaseId: string;
  service: string;
  environment: string;
  version: string;
  stableVersion?: string;
  commitSha?: string;
  committedAt?: string;
  initiator: string;
  strategy: string;
  stage: Stage;
  attempt: number;
  requestedAt: string;
  rollbackStartedAt?: string;
  finishedAt?: string;
  outcome?: EndStage;
  reason?: string;
}

/** What one audit write carries: the release's row as it stands and the events not yet written. */
export interface AuditBatch {
  release: ReleaseRecord;
  events: ReleaseEvent[];
}

/**
 * The ReleaseResult a failed release workflow carries: a release that did not succeed fails its
 * workflow (so the Temporal UI shows it as a failure) with its result as the failure's details.
 * `err` is what waiting for the workflow threw (the client's or a parent's); undefined for any
 * other failure.
 */
export function releaseResultOfFailure(err: unknown): ReleaseResult | undefined {
  const cause = (err as { cause?: { name?: string; type?: string; details?: unknown[] } }).cause;
  if (
    cause?.name === 'ApplicationFailure' &&
    (cause.type === FailureType.ReleaseRolledBack || cause.type === FailureType.ReleaseFailed)
  )
    return cause.details?.[0] as ReleaseResult | undefined;
  return undefined;
}
