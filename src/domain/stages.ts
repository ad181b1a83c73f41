/**
 * The stages of a release, in order. The names are what users see in Slack, the CLI and the
 * Temporal UI's ReleaseStage search attribute, so they never change meaning.
 *
 * Verifying (post-deploy smoke checks) runs only when the spec has `verification`.
 *
 * Backfilling comes right after Expanding (DESIGN.md put it after Baking): the new version reads
 * the new columns, so they must be filled before it takes traffic. See docs/architecture.md.
 */
export const FORWARD_STAGES = [
  'Queued',
  'Planning',
  'Expanding',
  'Backfilling',
  'Deploying',
  'Shifting',
  'Verifying',
  'Baking',
  'AwaitingContract',
  'Contracting',
] as const;

export const END_STAGES = ['Succeeded', 'RolledBack', 'Failed'] as const;

export type ForwardStage = (typeof FORWARD_STAGES)[number];
export type EndStage = (typeof END_STAGES)[number];
export type Stage = ForwardStage | 'RollingBack' | EndStage;

export const ALL_STAGES: readonly Stage[] = [...FORWARD_STAGES, 'RollingBack', ...END_STAGES];

export function isEndStage(stage: Stage): stage is EndStage {
  return (END_STAGES as readonly string[]).includes(stage);
}

/** Rollback is possible from any stage before the schema is contracted. */
export function canRollBack(stage: Stage): boolean {
  return (FORWARD_STAGES as readonly string[]).includes(stage) && stage !== 'Contracting';
}
