import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubernetesRouting } from '../../domain/routing';

/**
 * The routing a release found before its first shift, kept on the object it routes with. A first
 * shift that is retried after it wrote (its worker died before reporting) finds the true baseline
 * here instead of reading back its own half-done change.
 */
export const BASELINE_ANNOTATION = 'tollgate.io/baseline';

interface Recorded extends KubernetesRouting {
  releaseId: string;
  /** Which part of the object: the route's rule. */
  part: string;
}

export function recordedBaseline(
  object: KubernetesObject,
  releaseId: string,
  part: string,
): KubernetesRouting | undefined {
  const raw = object.metadata?.annotations?.[BASELINE_ANNOTATION];
  if (!raw) return undefined;
  try {
    const recorded = JSON.parse(raw) as Recorded;
    if (recorded.releaseId !== releaseId || recorded.part !== part) return undefined;
    return { backendRefs: recorded.backendRefs, selector: recorded.selector };
  } catch {
    return undefined;
  }
}

export function baselineAnnotation(
  releaseId: string,
  part: string,
  routing: KubernetesRouting,
): Record<string, string> {
  const recorded: Recorded = { releaseId, part, ...routing };
  return { [BASELINE_ANNOTATION]: JSON.stringify(recorded) };
}
