/**
 * Patch ids (docs/architecture.md, "Determinism and versioning"): where the release workflow's
 * commands changed, new code runs only in releases that did not pass that point under the old code.
 * Each goes patched() → deprecatePatch() → removed, with recorded histories proving each step.
 */
export const PATCHES = {
  /** Releases take a fencing epoch when admitted, fence their steps, and fence off a rollback. */
  fencedSteps: 'fenced-steps',
  /** Planning checks every env: reference of the spec on the worker before anything changes. */
  secretsCheckedAtPlanning: 'secrets-checked-at-planning',
  /** A release that did not succeed ends its workflow as failed (RolledBack or Failed), not completed. */
  unsuccessfulReleasesFail: 'unsuccessful-releases-fail',
  /** Decisions (approve, pause, freeze, ...) are acted on only after the worker checked their proof of who sent them. */
  decisionProofs: 'decision-proofs',
  /** Decisions take effect in the order they arrived, whichever proof the worker finished checking first. */
  decisionsInArrivalOrder: 'decisions-in-arrival-order',
  /** Step events are written once the oldest has waited a few seconds, not once ten pile up. */
  stepEventsByAge: 'step-events-by-age',
  /** A weight that the next setWeight leaves at once is not upserted to the UI's list (ReleaseWeight). */
  weightsListedWhereReleasesRest: 'weights-listed-where-releases-rest',
  /** A step boundary waits for decisions that arrived before it (an abort's check) to take effect. */
  boundariesAwaitDecisions: 'boundaries-await-decisions',
} as const;
