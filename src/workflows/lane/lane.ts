import { log } from '@temporalio/workflow';
import { laneGate, type LanePolicy } from '../../domain/lane-policy';
import { laneIdFor, type LaneStatus } from '../../domain/release';
import type { EndStage } from '../../domain/stages';
import type { LaneRef } from '../api';

/** Releases remembered for `tollgate lane` and the rollback target. */
const RECENT_LIMIT = 20;

export interface QueuedRelease {
  releaseId: string;
  version: string;
}

/** The lane's memory, carried across continue-as-new. */
export interface LaneState {
  stableVersion?: string;
  current?: QueuedRelease;
  queue: QueuedRelease[];
  policy: LanePolicy;
  recent: { releaseId: string; version: string; outcome: EndStage; at: string }[];
  /** A release's spec marked this lane's environment as production: decisions on it need a verified identity. */
  production?: boolean;
}

export interface LaneInput extends LaneRef {
  state?: LaneState;
}

/**
 * A lane's state and the rules that change it, with one owner. The handlers (./controls.ts) and
 * the lane's loop (../lane.ts) only call these methods.
 */
export class Lane {
  readonly laneId: string;
  readonly state: LaneState;
  /** The current release must be told it holds the lane (again, when it asked again). */
  grantDue = false;
  /** Releases to tell about a change of policy or of their place in line. */
  toNotify = new Set<string>();

  constructor(readonly ref: LaneInput) {
    this.laneId = laneIdFor(ref.service, ref.environment);
    this.state = ref.state ?? { queue: [], policy: { windows: [] }, recent: [] };
  }

  /** Is the release running in the lane or waiting in it? */
  knows(releaseId: string): boolean {
    const { current, queue } = this.state;
    return current?.releaseId === releaseId || queue.some((queued) => queued.releaseId === releaseId);
  }

  notifyEveryone(): void {
    for (const release of [this.state.current, ...this.state.queue]) if (release) this.toNotify.add(release.releaseId);
  }

  enqueue({ production, ...release }: QueuedRelease & { production?: boolean }): void {
    if (production) this.state.production = true;
    if (this.state.current?.releaseId === release.releaseId) {
      // The release asked again (its joinLane activity was retried): grant it again.
      this.grantDue = true;
      return;
    }
    if (!this.knows(release.releaseId)) this.state.queue.push(release);
    this.toNotify.add(release.releaseId);
  }

  finished(release: QueuedRelease & { outcome: EndStage }): void {
    if (this.state.current?.releaseId === release.releaseId) {
      if (release.outcome === 'Succeeded') this.state.stableVersion = release.version;
      this.state.current = undefined;
      this.notifyEveryone();
    } else {
      this.forget(release.releaseId);
    }
    this.remember(release);
  }

  /** A release that ended without telling the lane (terminated by hand) frees its slot. */
  gone(releaseId: string): void {
    if (this.state.current?.releaseId === releaseId) this.state.current = undefined;
  }

  /** Takes a release out of the queue (it ended while waiting, or cannot be reached). */
  forget(releaseId: string): void {
    this.state.queue = this.state.queue.filter((queued) => queued.releaseId !== releaseId);
  }

  remember({ releaseId, version, outcome }: QueuedRelease & { outcome: EndStage }): void {
    this.state.recent = [{ releaseId, version, outcome, at: new Date().toISOString() }, ...this.state.recent].slice(
      0,
      RECENT_LIMIT,
    );
  }

  setPolicy(policy: LanePolicy, what: string, details: Record<string, unknown>): void {
    this.state.policy = policy;
    log.info(what, { laneId: this.laneId, ...details });
    this.notifyEveryone();
  }

  /** Gives the free slot to the next release in line; true when it did. */
  admitNext(): void {
    if (this.state.current || this.state.queue.length === 0) return;
    this.state.current = this.state.queue.shift();
    this.grantDue = true;
    this.notifyEveryone();
  }

  /** Something for the loop to do: a grant, a notification, or a release to admit. */
  hasWork(): boolean {
    return this.grantDue || this.toNotify.size > 0 || (!this.state.current && this.state.queue.length > 0);
  }

  /** The release a waiting one waits for, or undefined for the current release itself. */
  waitingFor(releaseId: string): string | undefined {
    return this.state.current?.releaseId === releaseId ? undefined : this.state.current?.releaseId;
  }

  status(): LaneStatus {
    const { state } = this;
    return {
      laneId: this.laneId,
      service: this.ref.service,
      environment: this.ref.environment,
      stableVersion: state.stableVersion,
      current: state.current?.releaseId,
      queue: state.queue.map((queued) => queued.releaseId),
      policy: state.policy,
      gate: laneGate(state.policy, new Date()),
      recent: state.recent,
    };
  }
}
