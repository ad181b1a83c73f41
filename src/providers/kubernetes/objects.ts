import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { ProviderError } from '../context';

/** The field manager of every write Tollgate makes: `kubectl get -o yaml --show-managed-fields` shows what it owns. */
export const FIELD_MANAGER = 'tollgate';

/** Enough to name one object: what the API calls a KubernetesObjectHeader. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
}

/**
 * The write was based on a read that is no longer current (409 Conflict on its resourceVersion
 * precondition): someone else changed the object in between. Re-read and decide again.
 */
export class ResourceVersionConflict extends ProviderError {
  constructor(what: string) {
    super(
      `${what} changed since it was read (409 Conflict on its resourceVersion); the write was refused, not applied`,
    );
    this.name = 'ResourceVersionConflict';
  }
}

/**
 * Reads and writes through the API server with the errors a person can act on: missing RBAC
 * permissions name the verb and resource, invalid objects the API server's reason.
 */
export class KubeObjects {
  constructor(
    private readonly api: KubernetesObjectApi,
    private readonly signal?: AbortSignal,
  ) {}

  /** The object, or undefined when it does not exist. */
  async read<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    this.signal?.throwIfAborted();
    try {
      return await this.api.read<T>(ref);
    } catch (err) {
      if (statusOf(err) === 404 && !isMissingKind(err)) return undefined;
      throw translate(err, 'get', ref);
    }
  }

  /**
   * Server-side apply as field manager `tollgate`, forced: Tollgate takes the fields it sends from
   * whoever held them, and only those. The body's metadata.resourceVersion, when set, is a
   * precondition: a stale one is refused with ResourceVersionConflict.
   */
  async apply<T extends KubernetesObject>(body: T, options: { dryRun?: boolean } = {}): Promise<T> {
    this.signal?.throwIfAborted();
    try {
      return await this.api.patch<T>(
        body,
        undefined,
        options.dryRun ? 'All' : undefined,
        FIELD_MANAGER,
        true,
        'application/apply-patch+yaml',
      );
    } catch (err) {
      if (statusOf(err) === 409) throw new ResourceVersionConflict(describe(body));
      throw translate(err, 'patch', body);
    }
  }

  /**
   * Deletes the object if it is there and still at `resourceVersion` (a precondition, like every
   * write here). Its ReplicaSets and pods go with it (background propagation).
   */
  async remove(ref: ObjectRef, resourceVersion: string | undefined): Promise<void> {
    this.signal?.throwIfAborted();
    try {
      await this.api.delete(ref, undefined, undefined, undefined, undefined, 'Background', {
        propagationPolicy: 'Background',
        ...(resourceVersion ? { preconditions: { resourceVersion } } : {}),
      });
    } catch (err) {
      const status = statusOf(err);
      if (status === 404 && !isMissingKind(err)) return;
      if (status === 409) throw new ResourceVersionConflict(describe(ref));
      throw translate(err, 'delete', ref);
    }
  }
}

export function describe(ref: { kind?: string; metadata?: { name?: string; namespace?: string } }): string {
  return `${ref.kind ?? 'object'} ${ref.metadata?.namespace ?? ''}/${ref.metadata?.name ?? ''}`;
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's own message, from the Status object in the response body. */
function reasonOf(err: unknown): string {
  const body = (err as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      return body.slice(0, 500);
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String(body.message);
  return (err as Error).message;
}

/** A 404 for a kind the API server does not serve (a CRD not installed), as opposed to a missing object. */
function isMissingKind(err: unknown): boolean {
  return /Unrecognized API version and kind|resource .* not found|no matches for kind/i.test(
    (err as Error).message ?? '',
  );
}

function translate(
  err: unknown,
  verb: string,
  ref: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } },
): Error {
  const status = statusOf(err);
  const what = describe(ref);
  if (status === undefined) {
    if (isMissingKind(err)) {
      return new ProviderError(
        `the API server does not serve ${ref.apiVersion} ${ref.kind}: ${(err as Error).message}; install its CRDs (for HTTPRoute: the Gateway API standard channel)`,
        false,
      );
    }
    // Network errors, timeouts: the API server may be back on the next attempt.
    return new ProviderError(`${verb} ${what}: ${(err as Error).message}`);
  }
  if (status === 401)
    return new ProviderError(
      `the API server refused the worker's credentials (401) on ${verb} ${what}: check the kubeconfig or service account token`,
      false,
    );
  if (status === 403)
    return new ProviderError(
      `the worker may not ${verb} ${what} (403: ${reasonOf(err)}); grant it with deploy/kubernetes/rbac.yaml in namespace ${ref.metadata?.namespace ?? ''}`,
      false,
    );
  if (status === 404) return new ProviderError(`${what} does not exist (${verb}): ${reasonOf(err)}`, false);
  if (status === 400 || status === 422)
    return new ProviderError(`the API server refused ${verb} ${what} as invalid (${status}): ${reasonOf(err)}`, false);
  return new ProviderError(`${verb} ${what} failed (${status}): ${reasonOf(err)}`);
}
