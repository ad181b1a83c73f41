import type { KubernetesObject } from '@kubernetes/client-node';
import { ProviderError, type ProviderContext } from '../context';
import { fenceAnnotations, refuseStaleWrite } from './fence-annotations';
import { describe, type KubeObjects, type ObjectRef, ResourceVersionConflict } from './objects';

/** Conflicts in a row before giving up the attempt (Temporal then retries the step). */
const MAX_CONFLICTS = 8;

/**
 * What to write, decided from the object as read; undefined when it is already as wanted.
 * The result is a server-side apply body: only the fields Tollgate owns.
 */
export type Decide<T extends KubernetesObject> = (current: T | undefined) => T | undefined | Promise<T | undefined>;

/**
 * Read, decide, write with the read's resourceVersion as precondition; on 409 Conflict read again
 * and decide again, never overwrite blindly. Fenced: an attempt older than the object's last
 * writer is refused (StaleWriteRefused), and the attempt's token is recorded on the object.
 * Returns the object as it stands after the write (or as read, when nothing needed writing).
 */
export async function updateObject<T extends KubernetesObject>(
  ctx: ProviderContext,
  objects: KubeObjects,
  ref: ObjectRef,
  decide: Decide<T>,
): Promise<T | undefined> {
  return underLaneFence(ctx, () => readDecideWrite(ctx, objects, ref, decide));
}

/**
 * With a fence, the lane's own record (Tollgate's PostgreSQL) also admits the write and holds
 * newer writers off until it is done; the object's annotation is the check the API server makes
 * atomic with the write itself.
 */
function underLaneFence<T>(ctx: ProviderContext, write: () => Promise<T>): Promise<T> {
  return ctx.fenced ? ctx.fenced(write) : write();
}

async function readDecideWrite<T extends KubernetesObject>(
  ctx: ProviderContext,
  objects: KubeObjects,
  ref: ObjectRef,
  decide: Decide<T>,
): Promise<T | undefined> {
  for (let conflicts = 0; ; conflicts++) {
    const current = await objects.read<T>(ref);
    const wanted = await decide(current);
    if (!wanted) return current;
    refuseStaleWrite(ctx, current);
    const body: T = {
      ...wanted,
      metadata: {
        ...wanted.metadata,
        name: ref.metadata.name,
        namespace: ref.metadata.namespace,
        annotations: { ...wanted.metadata?.annotations, ...fenceAnnotations(ctx, current) },
        ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
      },
    };
    try {
      return await objects.apply(body);
    } catch (err) {
      if (!(err instanceof ResourceVersionConflict)) throw err;
      ctx.log.info({ object: describe(ref), conflicts: conflicts + 1 }, 'changed since read; reading it again');
      if (conflicts + 1 >= MAX_CONFLICTS) {
        throw new ProviderError(
          `${describe(ref)} kept changing under Tollgate (${MAX_CONFLICTS} conflicts in a row); trying the step again`,
        );
      }
    }
  }
}

/**
 * Deletes the object if it is there, with the same discipline: fenced, and only the version of it
 * that was read. Succeeds when there is nothing to delete.
 */
export async function deleteObject(
  ctx: ProviderContext,
  objects: KubeObjects,
  ref: ObjectRef,
  mayDelete: (current: KubernetesObject) => boolean = () => true,
): Promise<boolean> {
  return underLaneFence(ctx, () => readDecideDelete(ctx, objects, ref, mayDelete));
}

async function readDecideDelete(
  ctx: ProviderContext,
  objects: KubeObjects,
  ref: ObjectRef,
  mayDelete: (current: KubernetesObject) => boolean,
): Promise<boolean> {
  for (let conflicts = 0; ; conflicts++) {
    const current = await objects.read(ref);
    if (!current || !mayDelete(current)) return false;
    refuseStaleWrite(ctx, current);
    try {
      await objects.remove(ref, current.metadata?.resourceVersion);
      return true;
    } catch (err) {
      if (!(err instanceof ResourceVersionConflict) || conflicts + 1 >= MAX_CONFLICTS) throw err;
    }
  }
}
