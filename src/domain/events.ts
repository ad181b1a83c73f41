import type { Stage } from './stages';

export type ReleaseEventKind =
  | 'stage'
  | 'step'
  | 'approval'
  | 'rejection'
  | 'pause'
  | 'resume'
  | 'promote'
  | 'abort'
  | 'hold'
  | 'analysis'
  | 'verification'
  | 'compensation'
  | 'error';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One line of a release's history: in the status query, the audit log and Slack threads alike. */
export interface ReleaseEvent {
  /** Position in this release's history; with the release id it makes the audit row unique. */
  seq: number;
  /** ISO time, from the workflow's deterministic clock. */
  at: string;
  stage: Stage;
  kind: ReleaseEventKind;
  /** Who caused it: a person, or "tollgate" for the release's own decisions. */
  actor: string;
  message: string;
  data?: { [key: string]: JsonValue };
}
