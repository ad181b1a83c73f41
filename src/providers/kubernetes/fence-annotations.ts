import type { KubernetesObject } from '@kubernetes/client-node';
import type { ProviderContext } from '../context';
import { StaleWriteRefused } from '../fencing';
import { describe } from './objects';

/** The lane's fencing token of the last Tollgate write to an object, and whose lane it is. */
export const FENCE_TOKEN_ANNOTATION = 'tollgate.io/fence-token';
export const FENCE_LANE_ANNOTATION = 'tollgate.io/fence-lane';

/**
 * Refuses a write whose fencing token is older than the one the object already carries from the
 * same lane: a newer attempt (a retry, a rollback) has written since this one began. The refusal
 * is logged with the release id and thrown, so the step's failure says it.
 */
export function refuseStaleWrite(ctx: ProviderContext, current: KubernetesObject | undefined): void {
  const fence = ctx.fence;
  if (!fence || !current) return;
  const annotations = current.metadata?.annotations ?? {};
  if (annotations[FENCE_LANE_ANNOTATION] !== fence.laneId) return;
  const newer = Number(annotations[FENCE_TOKEN_ANNOTATION]);
  if (!Number.isFinite(newer) || newer <= fence.token) return;
  const message = `stale write refused: ${describe(current)} carries fencing token ${newer} of ${fence.laneId}, newer than this attempt's ${fence.token}; a newer attempt has written it since`;
  ctx.log.warn(
    { releaseId: ctx.facts.releaseId, object: describe(current), token: fence.token, newerToken: newer },
    message,
  );
  throw new StaleWriteRefused(message, fence, newer);
}

/**
 * The annotations a write carries: this attempt's token when it has one, otherwise the token the
 * object already has (a server-side apply that left them out would delete them).
 */
export function fenceAnnotations(ctx: ProviderContext, current: KubernetesObject | undefined): Record<string, string> {
  if (ctx.fence)
    return { [FENCE_LANE_ANNOTATION]: ctx.fence.laneId, [FENCE_TOKEN_ANNOTATION]: String(ctx.fence.token) };
  const annotations = current?.metadata?.annotations ?? {};
  const kept: Record<string, string> = {};
  for (const key of [FENCE_LANE_ANNOTATION, FENCE_TOKEN_ANNOTATION]) {
    if (annotations[key] !== undefined) kept[key] = annotations[key];
  }
  return kept;
}
