import { CancellationScope, condition, log, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { PublishRequest, PublishResult, SlackMessageRef } from '../activities/notify';
import type { AnalysisResult } from '../domain/analysis';
import type { PendingApproval } from '../domain/approval';
import type { JsonValue, ReleaseEvent, ReleaseEventKind } from '../domain/events';
import type { Gate } from '../domain/lane-policy';
import type { ReleasePlan } from '../domain/plan';
import { type BackfillProgress, describeBackfill } from '../domain/schema-change';
import type {
  AuditBatch,
  MigrationState,
  ReleaseFacts,
  ReleaseInput,
  ReleaseRecord,
  ReleaseStatus,
} from '../domain/release';
import {
  ReleaseEnvironment,
  ReleaseInitiator,
  ReleaseService,
  ReleaseStage,
  ReleaseVersion,
  ReleaseWeight,
} from '../domain/search-attributes';
import type { EndStage, Stage } from '../domain/stages';

/** The release itself, when it decides something on its own. */
export const TOLLGATE_ACTOR = 'tollgate';

/**
 * Everything a person can observe about a release: the status query, the event log, the search
 * attributes the Temporal UI filters on, the UI's "current details", and the audit log.
 *
 * Audit rows are written by a background loop, batched, so a slow or unavailable audit database
 * never holds a release (and above all never holds a rollback); the workflow waits for the loop to
 * drain before it completes, so no event is lost.
 *
 * Step events are the chatty ones: they are written (and shown in Slack) together with the next
 * event of another kind, or when the release is about to wait (`flush`), or once a few pile up.
 * Writing after every step cost each step one more activity and workflow task on its critical path.
 */
const STEP_EVENTS_PER_WRITE = 10;

export class ReleaseState {
  readonly status: ReleaseStatus;
  private rollbackStartedAt?: string;
  private unrecorded: ReleaseEvent[] = [];
  private recording = false;
  private flushRequested = false;
  private messageOutdated = false;
  private publishing = false;
  private slackMessage?: SlackMessageRef;
  private toldUpTo = -1;

  constructor(
    private readonly input: ReleaseInput,
    plan: ReleasePlan,
    private readonly record: (batch: AuditBatch) => Promise<void>,
    /** Posts and edits the release's Slack message, when the spec names a channel. */
    private readonly publish?: (request: PublishRequest) => Promise<PublishResult>,
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
    upsertSearchAttributes([
      { key: ReleaseService, value: input.spec.service },
      { key: ReleaseEnvironment, value: input.spec.environment },
      { key: ReleaseVersion, value: input.spec.version },
      { key: ReleaseInitiator, value: input.initiator.id },
      { key: ReleaseStage, value: 'Queued' },
      { key: ReleaseWeight, value: 0 },
    ]);
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
    this.unrecorded.push(event);
    log.info(message, { releaseId: this.input.releaseId, stage: event.stage, kind, actor });
    this.refreshDetails();
    if (kind !== 'step' || this.unrecorded.length >= STEP_EVENTS_PER_WRITE) this.flush();
  }

  /** Writes what is pending to the audit log and Slack, in the background. Call before waiting. */
  flush(): void {
    if (this.unrecorded.length > 0) {
      this.flushRequested = true;
      if (!this.recording) void this.recordInBackground();
    }
    this.publishSoon();
  }

  enterStage(stage: Stage, message: string, actor = TOLLGATE_ACTOR): void {
    this.status.stage = stage;
    if (stage === 'RollingBack') this.rollbackStartedAt = new Date().toISOString();
    upsertSearchAttributes([{ key: ReleaseStage, value: stage }]);
    this.emit('stage', `${stage}: ${message}`, actor);
  }

  setStableVersion(version: string | undefined): void {
    this.status.stableVersion = version;
  }

  setWeight(weight: number): void {
    this.status.weight = weight;
    upsertSearchAttributes([{ key: ReleaseWeight, value: weight }]);
  }

  startStep(index: number): void {
    const step = this.status.steps[index];
    step.state = 'running';
    this.status.step = { index, total: this.status.steps.length, label: step.label };
    this.emit('step', `step ${index + 1}/${this.status.steps.length}: ${step.label}`);
  }

  finishStep(index: number, state: 'done' | 'skipped' = 'done'): void {
    this.status.steps[index].state = state;
    if (state === 'skipped')
      this.emit('step', `step ${index + 1}/${this.status.steps.length} skipped: ${this.status.steps[index].label}`);
    this.refreshDetails();
  }

  setHold(hold: Extract<Gate, { open: false }> | undefined): void {
    const changed = hold?.reason !== this.status.hold?.reason;
    this.status.hold = hold;
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
    this.publishSoon();
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

  /** Resolves once every event is in the audit log and the Slack message is up to date. */
  async recorded(): Promise<void> {
    this.flush();
    await condition(() => !this.recording && this.unrecorded.length === 0 && !this.publishing && !this.messageOutdated);
  }

  /**
   * Keeps the Slack message current, in the background like the audit log: changes made while a
   * post is in flight are coalesced into the next one. A Slack outage costs the message, never the
   * release: the activity gives up after a few attempts and the next change tries again.
   */
  private publishSoon(): void {
    if (!this.publish) return;
    this.messageOutdated = true;
    if (!this.publishing) void this.publishInBackground();
  }

  private async publishInBackground(): Promise<void> {
    const channel = this.input.spec.notify?.slack?.channel;
    if (!this.publish || !channel) return;
    this.publishing = true;
    try {
      while (this.messageOutdated) {
        this.messageOutdated = false;
        const { events, ...status } = this.status;
        const untold = events.filter((event) => event.seq > this.toldUpTo);
        try {
          const result = await CancellationScope.nonCancellable(() =>
            this.publish!({
              releaseId: this.input.releaseId,
              channel,
              message: this.slackMessage,
              status,
              events: untold,
            }),
          );
          this.slackMessage = result.message;
          this.toldUpTo = Math.max(this.toldUpTo, result.postedUpTo);
        } catch (err) {
          log.warn('could not update the Slack message', {
            releaseId: this.input.releaseId,
            error: (err as Error).message,
          });
        }
      }
    } finally {
      this.publishing = false;
    }
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

  private async recordInBackground(): Promise<void> {
    this.recording = true;
    try {
      while (this.flushRequested && this.unrecorded.length > 0) {
        this.flushRequested = false;
        const events = this.unrecorded;
        this.unrecorded = [];
        // Outside any cancellable scope: aborting a release must not cancel writing its history.
        await CancellationScope.nonCancellable(() => this.record({ release: this.auditRecord(), events }));
      }
    } finally {
      this.recording = false;
    }
  }

  /** The Temporal UI's "current details": where the release stands, in a few lines of markdown. */
  private refreshDetails(): void {
    const s = this.status;
    const lines = [
      `**${s.service}** ${s.version} → ${s.environment}: **${s.stage}**, weight ${s.weight}%`,
      s.step ? `step ${s.step.index + 1}/${s.step.total}: ${s.step.label}` : undefined,
      s.hold ? `holding: ${s.hold.reason}` : undefined,
      s.pendingApproval
        ? `awaiting approval from ${s.pendingApproval.from.join(', ')} (${s.pendingApproval.approvals.length}/${s.pendingApproval.quorum})`
        : undefined,
      ...(s.backfills ?? []).filter((backfill) => !backfill.done).map(describeBackfill),
      s.outcome?.reason ? `reason: ${s.outcome.reason}` : undefined,
    ];
    setCurrentDetails(lines.filter(Boolean).join('\n\n'));
  }
}
