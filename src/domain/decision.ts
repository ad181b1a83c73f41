import type { Actor } from './spec';

/**
 * The decisions people make about releases and lanes. Each reaches a workflow only with a proof
 * of who sent it, which the worker checks before the workflow accepts the decision.
 */
export const DECISION_KINDS = [
  'approve',
  'reject',
  'rollback',
  'abort',
  'pause',
  'resume',
  'promote',
  'extendAnalysis',
  'freeze',
  'unfreeze',
  'setWindows',
] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

/** What a decision carries besides its content: the proof (a JWT), never stored in a release's state. */
export interface Proven {
  /** An OIDC ID token from `tollgate login`, or an assertion signed by Tollgate's app (Slack, HTTP API). */
  proof?: string;
}

/** What the worker is asked to check: who claims to decide what, on which workflow. */
export interface DecisionCheck {
  kind: DecisionKind;
  /** The workflow the decision is for (a release or a lane id); the app's assertions are bound to it. */
  target: string;
  environment: string;
  /** The spec marks the environment as production: local mode's identities on trust are refused. */
  production: boolean;
  claimed: Actor;
  proof?: string;
}

/** The worker's answer: the identity the proof establishes, or why the decision is refused. */
export type DecisionVerdict = { accepted: true; actor: Actor } | { accepted: false; reason: string };
