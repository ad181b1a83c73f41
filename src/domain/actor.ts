import type { Actor } from './spec';

/**
 * Why a message's sender is not a usable Actor, or undefined when it is. The workflow checks
 * senders with this rather than the Actor schema in spec.ts, to keep zod out of the workflow
 * bundle (each workflow instance pays for what the bundle loads).
 */
export function actorProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'actor: required, with an id';
  const actor = value as Partial<Record<keyof Actor, unknown>>;
  if (typeof actor.id !== 'string' || actor.id.length === 0 || actor.id.length > 128)
    return 'actor.id: a non-empty id of at most 128 characters';
  if (actor.name !== undefined && typeof actor.name !== 'string') return 'actor.name: must be text';
  if (
    actor.groups !== undefined &&
    (!Array.isArray(actor.groups) || actor.groups.some((group) => typeof group !== 'string'))
  ) {
    return 'actor.groups: must be a list of group names';
  }
  return undefined;
}
