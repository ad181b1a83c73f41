import { condition, log, patched, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { PublishRequest, PublishResult } from '../../activities/notify';
import type { AnalysisResult } from '../../domain/analysis';
import type { PendingApproval } from '../../domain/approval';
import type { Deployment } from '../../domain/deployment';
import type { FlagSetting } from '../../domain/flags';
import { forwardFence, rollbackFence, type Fence } from '../../domain/fence';
import type { JsonValue, ReleaseEvent, ReleaseEventKind } from '../../domain/events';
import type { Gate, LanePolicy } from '../../domain/lane-policy';
import type { BackfillProgress, MigrationPlan } from '../../domain/migration-plan';
import type { ReleasePlan } from '../../domain/plan';
import {
  laneIdFor,
  type AuditBatch,
  type MigrationState,
  type ReleaseInput,
  type ReleaseRecord,
  type ReleaseStatus,
} from '../../domain/release';
import type { ReleaseFacts } from '../../domain/release-facts';
import type { RouteSnapshot } from '../../domain/routing';
import { queuedReleaseAttributes, ReleaseStage, ReleaseWeight } from '../../domain/search-attributes';
import type { EndStage, Stage } from '../../domain/stages';
import type { VerificationResult } from '../../domain/verification';
import { currentDetails } from './current-details';
import { PATCHES } from './patches';
import { RecordKeeper } from './record-keeper';

/** The release itself, when it decides something on its own. */
export const TOLLGATE_ACTOR = 'tollgate';

/** What the lane has told the release. Changes are counted, so a wait can notice any of them. */
export interface LaneView {
  granted: boolean;
  policy: LanePolicy;
  changes: number;
  /** The release ahead of this one in the lane, while it waits. */
  waitingFor?: string;
}

/** Someone's decision to undo the release. */
export interface Decision {
  actor: string;
  reason: string;
}

/** What people have asked of the release since it started. Counted, so a wait can tell a new request from an old one. */
export interface PeopleRequests {
  promotions: number;
  extensions: number;
  /** Skip every remaining pause and analysis. */
  fullPromotion: boolean;
  rejection?: Decision;
  rollback?: Decision;
}

/**
 * Everything the release knows, with one owner: what a person can observe (the status query, the
 * event log, the search attributes the Temporal UI filters on, the UI's "current details", the
 * audit log and the Slack message), what the lane and people have told it, and what its steps
 * found out (the schema plan, where the new version listens, the routing before the first shift).
 */
export class ReleaseState {
  readonly status: ReleaseStatus;
  readonly lane: LaneView = { granted: false, policy: { windows: [] }, changes: 0 };
  readonly asked: PeopleRequests = { promotions: 0, extensions: 0, fullPromotion: false };
  /** The schema side of the release, once Planning has read it (when the spec has a database). */
  migrationPlan?: MigrationPlan;
  /** Where the new version listens, from its deployer. */
  canary?: Deployment;
  /** The routing found before the first shift; every later shift and the rollback pass it back. */
  baseline?: RouteSnapshot;
  /** The lane's fencing epoch for this release (src/domain/fence.ts); absent in releases started before fencing. */
  fenceEpoch?: number;
  /** The rollback's fence, raised once a rollback is asked (./fencing.ts). */
  fencedOff?: Promise<void>;
  private fencedChanges = 0;
  private rollbackStartedAt?: string;
  /** A weight passed through on the way to the next one, not yet in the Temporal UI's list. */
  private weightUnlisted = false;
  private readonly records: RecordKeeper;

  constructor(
    private readonly input: ReleaseInput,
    plan: ReleasePlan,
    record: (batch: AuditBatch) => Promise<void>,
    /** Posts and edits the release's Slack message, when the spec names a channel. */
    publish?: (request: PublishRequest) => Promise<PublishResult>,
  ) {
    const now = new Date().toISOString();
    this.status = {
      releaseId: input.releaseId,
      service: input.spec.service,
      environment: input.spec.environment,
      version: input.spec.version,
      initiator: input.initiator,
      strategy: plan.strategy,
      stage: 'Queued',
      weight: 0,
      steps: plan.steps.map((step) => ({ label: step.label, state: 'pending' })),
      decisions: [],
      startedAt: now,
      updatedAt: now,
      events: [],
    };
    this.records = new RecordKeeper(input.releaseId, input.spec.notify?.slack?.channel, {
      record,
      publish,
      auditRecord: () => this.auditRecord(),
      status: () => this.status,
    });
    upsertSearchAttributes(queuedReleaseAttributes(input.spec, input.initiator.id));
  }

  get stage(): Stage {
    return this.status.stage;
  }

  get weight(): number {
    return this.status.weight;
  }

  get facts(): ReleaseFacts {
    const { spec } = this.input;
    return {
      releaseId: this.input.releaseId,
      service: spec.service,
      environment: spec.environment,
      version: spec.version,
      stableVersion: this.status.stableVersion,
      commitSha: spec.commit?.sha,
      initiator: this.input.initiator.id,
      attempt: this.input.attempt,
    };
  }

  /** The fencing token of the release's next forward change. */
  nextFence(): Fence | undefined {
    if (this.fenceEpoch === undefined) return undefined;
    return forwardFence(this.laneId, this.fenceEpoch, ++this.fencedChanges);
  }

  /** The fencing token of the release's rollback: newer than all its forward changes. */
  rollbackFence(): Fence | undefined {
    return this.fenceEpoch === undefined ? undefined : rollbackFence(this.laneId, this.fenceEpoch);
  }

  private get laneId(): string {
    return laneIdFor(this.input.spec.service, this.input.spec.environment);
  }

  emit(kind: ReleaseEventKind, message: string, actor = TOLLGATE_ACTOR, data?: { [key: string]: JsonValue }): void {
    const event: ReleaseEvent = {
      seq: this.status.events.length,
      at: new Date().toISOString(),
      stage: this.status.stage,
      kind,
      actor,
      message,
      ...(data ? { data } : {}),
    };
    this.status.events.push(event);
    this.status.updatedAt = event.at;
    // People's own words (an approver's comment, a rejection's reason) stay out of the worker's log,
    // which is kept in clear, while the payload codec encrypts them everywhere else.
    const logged =
      data && 'comment' in data ? `${kind} by ${actor} (their comment is in the release's events)` : message;
    log.info(logged, { releaseId: this.input.releaseId, stage: event.stage, kind, actor });
    this.refreshDetails();
    this.records.add(event);
  }

  /** Writes what is pending to the audit log and Slack, in the background. Call before waiting. */
  flush(): void {
    this.listWeight();
    this.records.flush();
  }

  /** Waits like `condition`, after writing what the release did so far: a waiting release is fully on record. */
  waitUntil(fn: () => boolean, timeout?: number, options?: { summary: string }): Promise<boolean> {
    this.flush();
    if (timeout === undefined) return condition(fn).then(() => true);
    return options ? condition(fn, timeout, options) : condition(fn, timeout);
  }

  /** Resolves once every event is in the audit log and the Slack message is up to date. */
  recorded(): Promise<void> {
    return this.records.recorded();
  }

  enterStage(stage: Stage, message: string, actor = TOLLGATE_ACTOR): void {
    this.status.stage = stage;
    if (stage === 'RollingBack') this.rollbackStartedAt = new Date().toISOString();
    upsertSearchAttributes([
      { key: ReleaseStage, value: stage },
      ...(this.weightUnlisted ? [{ key: ReleaseWeight, value: this.status.weight }] : []),
    ]);
    this.weightUnlisted = false;
    this.emit('stage', `${stage}: ${message}`, actor);
  }

  setStableVersion(version: string | undefined): void {
    this.status.stableVersion = version;
  }

  /**
   * The release's traffic weight, shown at once in its status and Slack message. The Temporal UI's
   * list (ReleaseWeight) shows the weights a release rests at: `passingThrough` marks one that the
   * next step, another setWeight, leaves at once; it is listed only if the release stops there
   * (it waits, is held, changes stage). Listing each costs every step a history event and a
   * visibility write (about 1 ms; bench:orchestration).
   */
  setWeight(weight: number, passingThrough = false): void {
    this.status.weight = weight;
    this.weightUnlisted = passingThrough && patched(PATCHES.weightsListedWhereReleasesRest);
    if (!this.weightUnlisted) upsertSearchAttributes([{ key: ReleaseWeight, value: weight }]);
  }

  private listWeight(): void {
    if (!this.weightUnlisted) return;
    this.weightUnlisted = false;
    upsertSearchAttributes([{ key: ReleaseWeight, value: this.status.weight }]);
  }

  startStep(index: number): void {
    const step = this.status.steps[index];
    step.state = 'running';
    this.status.step = { index, total: this.status.steps.length, label: step.label };
    this.emit('step', `step ${index + 1}/${this.status.steps.length}: ${step.label}`);
  }

  finishStep(index: number, state: 'done' | 'skipped' = 'done'): void {
    const step = this.status.steps[index];
    step.state = state;
    if (state === 'skipped') this.emit('step', `step ${index + 1}/${this.status.steps.length} skipped: ${step.label}`);
    this.refreshDetails();
  }

  setHold(hold: Extract<Gate, { open: false }> | undefined): void {
    const changed = hold?.reason !== this.status.hold?.reason;
    this.status.hold = hold;
    if (hold) this.listWeight(); // a held release rests at its weight
    if (hold && changed) this.emit('hold', `holding: ${hold.reason}`);
  }

  setPendingApproval(pending: PendingApproval | undefined): void {
    this.status.pendingApproval = pending;
    this.refreshDetails();
  }

  setAnalysis(result: AnalysisResult): void {
    this.status.lastAnalysis = result;
  }

  setMigrations(migrations: MigrationState[]): void {
    this.status.migrations = migrations;
  }

  setMigrationState(name: string, state: MigrationState['state']): void {
    const migration = this.status.migrations?.find((candidate) => candidate.name === name);
    if (migration) migration.state = state;
    this.refreshDetails();
  }

  setBackfill(progress: BackfillProgress): void {
    const backfills = (this.status.backfills ??= []);
    const index = backfills.findIndex((candidate) => candidate.migration === progress.migration);
    if (index >= 0) backfills[index] = progress;
    else backfills.push(progress);
    this.refreshDetails();
    this.records.publishSoon();
  }

  setVerification(result: VerificationResult): void {
    this.status.verification = result;
    this.refreshDetails();
  }

  /** Where the release left a flag for one audience (everyone, or a segment): its latest setFlag on it. */
  setFlag(setting: FlagSetting): void {
    const flags = (this.status.flags ??= []);
    const index = flags.findIndex(
      (candidate) => candidate.flag === setting.flag && candidate.segment === setting.segment,
    );
    if (index >= 0) flags[index] = setting;
    else flags.push(setting);
    this.refreshDetails();
  }

  /** The rollback put the flag back as the release found it. */
  markFlagRestored(flag: string): void {
    for (const setting of this.status.flags ?? []) if (setting.flag === flag) setting.restored = true;
  }

  setContractedAt(at: string): void {
    this.status.contractedAt = at;
  }

  finish(outcome: EndStage, reason?: string): void {
    this.status.outcome = { stage: outcome, reason };
    this.status.step = undefined;
    this.status.hold = undefined;
    this.status.pendingApproval = undefined;
    this.enterStage(outcome, reason ?? 'done');
  }

  private auditRecord(): ReleaseRecord {
    const { spec } = this.input;
    return {
      releaseId: this.input.releaseId,
      service: spec.service,
      environment: spec.environment,
      version: spec.version,
      stableVersion: this.status.stableVersion,
      commitSha: spec.commit?.sha,
      committedAt: spec.commit?.committedAt,
      initiator: this.input.initiator.id,
      strategy: this.status.strategy,
      stage: this.status.stage,
      attempt: this.input.attempt,
      requestedAt: this.input.requestedAt,
      rollbackStartedAt: this.rollbackStartedAt,
      finishedAt: this.status.outcome ? this.status.updatedAt : undefined,
      outcome: this.status.outcome?.stage,
      reason: this.status.outcome?.reason,
    };
  }

  private refreshDetails(): void {
    setCurrentDetails(currentDetails(this.status));
  }
}
