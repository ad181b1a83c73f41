import { log, proxyActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { SlackMessageRef } from '../../activities/notify';
import type { PendingApproval } from '../../domain/approval';
import type { EnvironmentStatus, PipelineInput, PipelineOutcome, PipelineStatus } from '../../domain/pipeline';
import {
  ReleaseEnvironment,
  ReleaseInitiator,
  ReleaseService,
  ReleaseStage,
  ReleaseVersion,
} from '../../domain/search-attributes';

/** The run's Slack message: a few quick attempts, then the run goes on without it. */
const slack = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumAttempts: 5 },
});

/** The run itself, when it decides something on its own. */
export const TOLLGATE_ACTOR = 'tollgate';

/** What people and the head have asked of the run. */
export interface RunRequests {
  supersededBy?: { sha: string; pipelineId: string };
  abort?: { actor: string; reason: string };
  rejection?: { actor: string; reason: string };
  /** Counted, so a wait can notice any new request. */
  changes: number;
}

/**
 * Everything a pipeline run knows, with one owner: the status people read (query, Temporal UI's
 * search attributes and current details) and what was asked of it.
 */
export class PipelineRun {
  readonly status: PipelineStatus;
  readonly asked: RunRequests = { changes: 0 };
  /** The live Slack message, once posted; updates are chained so they land in order. */
  private message?: SlackMessageRef;
  private publishing: Promise<void> = Promise.resolve();
  private changes = 0;
  private published = 0;

  constructor(readonly input: PipelineInput) {
    const now = new Date().toISOString();
    this.status = {
      pipelineId: input.pipelineId,
      pipeline: input.pipeline,
      service: input.service,
      version: input.version,
      commit: input.commit,
      initiator: input.initiator,
      environments: input.stages.map((stage) => ({ environment: stage.environment, state: 'pending' })),
      decisions: [],
      startedAt: now,
      updatedAt: now,
      events: [],
    };
    upsertSearchAttributes([
      { key: ReleaseService, value: input.service },
      { key: ReleaseVersion, value: input.version },
      { key: ReleaseInitiator, value: input.initiator.id },
      { key: ReleaseStage, value: 'Pipeline' },
    ]);
    this.refreshDetails();
  }

  environment(index: number): EnvironmentStatus {
    return this.status.environments[index];
  }

  emit(message: string, environment?: string, actor = TOLLGATE_ACTOR): void {
    const at = new Date().toISOString();
    this.status.events.push({ at, environment, actor, message });
    this.status.updatedAt = at;
    log.info(message, { pipelineId: this.input.pipelineId, environment, actor });
    this.refreshDetails();
  }

  /** The environment the run is in or waiting for: the Temporal UI filters on it. */
  enter(index: number, state: EnvironmentStatus['state'], message: string, waitingFor?: string): void {
    const environment = this.environment(index);
    environment.state = state;
    environment.waitingFor = waitingFor;
    if (state === 'releasing') environment.startedAt = new Date().toISOString();
    this.status.current = environment.environment;
    upsertSearchAttributes([
      { key: ReleaseEnvironment, value: environment.environment },
      { key: ReleaseStage, value: state === 'releasing' ? 'Releasing' : 'Gated' },
    ]);
    this.emit(message, environment.environment);
  }

  finishEnvironment(index: number, update: Partial<EnvironmentStatus>): void {
    Object.assign(this.environment(index), { ...update, waitingFor: undefined, finishedAt: new Date().toISOString() });
    this.refreshDetails();
  }

  setPendingApproval(pending: PendingApproval | undefined): void {
    this.status.pendingApproval = pending;
    this.refreshDetails();
  }

  finish(outcome: PipelineOutcome, reason?: string): void {
    this.status.outcome = { outcome, reason };
    this.status.pendingApproval = undefined;
    for (const environment of this.status.environments)
      if (environment.state === 'pending' || environment.state === 'gated') {
        environment.state = 'skipped';
        environment.waitingFor = undefined;
      }
    upsertSearchAttributes([{ key: ReleaseStage, value: outcome }]);
    this.emit(`${outcome}${reason ? `: ${reason}` : ''}`);
  }

  private refreshDetails(): void {
    setCurrentDetails(pipelineDetails(this.status));
    this.changes++;
    this.publish();
  }

  /**
   * Brings the Slack message up to date in the background (when the pipeline names a channel);
   * only the newest status is sent, so a burst of changes is one update.
   */
  private publish(): void {
    const channel = this.input.notify?.slack?.channel;
    if (!channel) return;
    this.publishing = this.publishing.then(async () => {
      if (this.published >= this.changes) return;
      this.published = this.changes;
      try {
        this.message = await slack.publishPipelineMessage.executeWithOptions(
          { summary: `Slack message in ${channel}` },
          [{ pipelineId: this.input.pipelineId, channel, message: this.message, status: this.status }],
        );
      } catch (err) {
        log.warn('could not update the Slack message', {
          pipelineId: this.input.pipelineId,
          error: String(err),
        });
      }
    });
  }

  /** Resolves once the Slack message shows everything so far. */
  async recorded(): Promise<void> {
    for (let seen; seen !== this.publishing;) {
      seen = this.publishing;
      await seen;
    }
  }
}

/** The Temporal UI's "current details": the run's environments, one line each, with their releases. */
export function pipelineDetails(s: PipelineStatus): string {
  const lines = [
    `**${s.pipeline}** ${s.version} (commit ${s.commit.sha.slice(0, 12)})${s.outcome ? `: **${s.outcome.outcome}**` : ''}`,
    s.outcome?.reason ? `reason: ${s.outcome.reason}` : undefined,
    ...s.environments.map(
      (e) =>
        `${e.environment}: **${e.state}**${e.releaseId ? ` (release ${e.releaseId})` : ''}` +
        `${e.waitingFor ? `, waiting for ${e.waitingFor}` : ''}${e.reason ? `: ${e.reason}` : ''}`,
    ),
    s.pendingApproval
      ? `awaiting approval from ${s.pendingApproval.from.join(', ')} (${s.pendingApproval.approvals.length}/${s.pendingApproval.quorum})`
      : undefined,
  ];
  return lines.filter(Boolean).join('  \n');
}
