import type { PipelineHeadStatus } from '../../domain/pipeline';
import type { PipelineRunRef } from './api';

/** The head's memory, carried across continue-as-new. */
export interface HeadState {
  newest?: PipelineRunRef;
  active: PipelineRunRef[];
}

export interface HeadInput {
  pipeline: string;
  state?: HeadState;
}

/** Is `a`'s commit newer than `b`'s? By commit time; a tie goes to the run that arrived later (`a`). */
function isNewer(a: PipelineRunRef, b: PipelineRunRef): boolean {
  return Date.parse(a.committedAt) >= Date.parse(b.committedAt);
}

/**
 * The rules of supersession, with one owner: the newest commit wins. A run that starts supersedes
 * every older run still going; a run that starts older than the newest known one is superseded at
 * once (CI can report commits out of order). Superseding is a message: each run decides, at its
 * next environment, to stop (../pipeline.ts), so a run already releasing finishes that release.
 */
export class PipelineHead {
  readonly state: HeadState;
  /** Runs to tell, and by whom they were superseded. */
  toSupersede = new Map<string, PipelineRunRef>();

  constructor(readonly input: HeadInput) {
    this.state = input.state ?? { active: [] };
  }

  started(run: PipelineRunRef): void {
    const { state } = this;
    // A registration retried by its activity changes nothing.
    if (
      state.active.some((known) => known.pipelineId === run.pipelineId) ||
      state.newest?.pipelineId === run.pipelineId
    )
      return;
    if (state.newest && !isNewer(run, state.newest)) {
      this.toSupersede.set(run.pipelineId, state.newest);
      return;
    }
    for (const older of state.active) this.toSupersede.set(older.pipelineId, run);
    state.active = [run];
    state.newest = run;
  }

  ended(pipelineId: string): void {
    this.state.active = this.state.active.filter((run) => run.pipelineId !== pipelineId);
  }

  status(): PipelineHeadStatus {
    return { pipeline: this.input.pipeline, newest: this.state.newest, active: this.state.active };
  }
}
