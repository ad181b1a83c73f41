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
} as const;
