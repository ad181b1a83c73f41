import { CancellationScope, condition, log, patched } from '@temporalio/workflow';
import type { PublishRequest, PublishResult, SlackMessageRef } from '../../activities/notify';
import type { ReleaseEvent } from '../../domain/events';
import { messageOf } from '../../domain/failures';
import type { AuditBatch, ReleaseRecord, ReleaseStatus } from '../../domain/release';
import { PATCHES } from './patches';

/**
 * Step events are the chatty ones: they are written (and shown in Slack) together with the next
 * event of another kind, or when the release is about to wait (`flush`), or once the oldest has
 * waited STEP_EVENTS_MAX_AGE_MS of workflow time. A write lands in the middle of the next step and
 * costs it a workflow task (bench:orchestration), so steps that follow each other quickly share one.
 */
export const STEP_EVENTS_MAX_AGE_MS = 5_000;
/** Releases from before STEP_EVENTS_MAX_AGE_MS wrote once this many step events piled up. */
export const STEP_EVENTS_PER_WRITE = 10;

export interface RecordKeeperPorts {
  /** Writes a batch to the audit log (an idempotent activity). */
  record: (batch: AuditBatch) => Promise<void>;
  /** Posts and edits the release's Slack message, when the spec names a channel. */
  publish?: (request: PublishRequest) => Promise<PublishResult>;
  /** The release's row as it stands now. */
  auditRecord: () => ReleaseRecord;
  status: () => ReleaseStatus;
}

/**
 * Keeps the audit log and the Slack message up to date, in the background: a slow or unavailable
 * audit database or Slack never holds a release (and above all never holds a rollback); the
 * workflow waits for both to drain before it completes (`recorded`), so no event is lost.
 */
export class RecordKeeper {
  private unrecorded: ReleaseEvent[] = [];
  private recording = false;
  private flushRequested = false;
  private messageOutdated = false;
  private publishing = false;
  private slackMessage?: SlackMessageRef;
  private toldUpTo = -1;

  constructor(
    private readonly releaseId: string,
    private readonly channel: string | undefined,
    private readonly ports: RecordKeeperPorts,
  ) {}

  /** Takes a new event; writes at once unless it is a step event that may wait for company. */
  add(event: ReleaseEvent): void {
    this.unrecorded.push(event);
    if (event.kind !== 'step' || this.stepEventsDue()) this.flush();
  }

  private stepEventsDue(): boolean {
    if (!patched(PATCHES.stepEventsByAge)) return this.unrecorded.length >= STEP_EVENTS_PER_WRITE;
    return Date.now() - Date.parse(this.unrecorded[0].at) >= STEP_EVENTS_MAX_AGE_MS;
  }

  /** Writes what is pending to the audit log and Slack, in the background. Call before waiting. */
  flush(): void {
    if (this.unrecorded.length > 0) {
      this.flushRequested = true;
      if (!this.recording) void this.recordInBackground();
    }
    this.publishSoon();
  }

  /** Resolves once every event is in the audit log and the Slack message is up to date. */
  async recorded(): Promise<void> {
    this.flush();
    await condition(() => !this.recording && this.unrecorded.length === 0 && !this.publishing && !this.messageOutdated);
  }

  /**
   * Keeps the Slack message current: changes made while a post is in flight are coalesced into the
   * next one. A Slack outage costs the message, never the release: the activity gives up after a
   * few attempts and the next change tries again.
   */
  publishSoon(): void {
    if (!this.ports.publish) return;
    this.messageOutdated = true;
    if (!this.publishing) void this.publishInBackground();
  }

  private async publishInBackground(): Promise<void> {
    const { publish } = this.ports;
    if (!publish || !this.channel) return;
    const channel = this.channel;
    this.publishing = true;
    try {
      while (this.messageOutdated) {
        this.messageOutdated = false;
        const { events, ...status } = this.ports.status();
        const untold = events.filter((event) => event.seq > this.toldUpTo);
        try {
          const result = await CancellationScope.nonCancellable(() =>
            publish({ releaseId: this.releaseId, channel, message: this.slackMessage, status, events: untold }),
          );
          this.slackMessage = result.message;
          this.toldUpTo = Math.max(this.toldUpTo, result.postedUpTo);
        } catch (err) {
          log.warn('could not update the Slack message', { releaseId: this.releaseId, error: messageOf(err) });
        }
      }
    } finally {
      this.publishing = false;
    }
  }

  private async recordInBackground(): Promise<void> {
    this.recording = true;
    try {
      while (this.flushRequested && this.unrecorded.length > 0) {
        this.flushRequested = false;
        const events = this.unrecorded;
        this.unrecorded = [];
        // Outside any cancellable scope: aborting a release must not cancel writing its history.
        await CancellationScope.nonCancellable(() => this.ports.record({ release: this.ports.auditRecord(), events }));
      }
    } finally {
      this.recording = false;
    }
  }
}
