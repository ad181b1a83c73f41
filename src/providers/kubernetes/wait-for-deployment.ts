import type { KubernetesObject } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError, type ProviderContext } from '../context';
import { FIELD_MANAGER, type KubeObjects, type ObjectRef } from './objects';
import { rolloutState, type DeploymentLike } from './rollout-status';

export type KubeDeployment = KubernetesObject & DeploymentLike;

/**
 * Polls a Deployment until `done` says so, failing the step at once when Kubernetes reports
 * ProgressDeadlineExceeded (never ready: the release rolls back) and logging each new state.
 */
export async function waitForDeployment(
  ctx: ProviderContext,
  objects: KubeObjects,
  ref: ObjectRef,
  options: { intervalMs: number; progressDeadline: string; done: (deployment: KubeDeployment) => boolean },
): Promise<KubeDeployment> {
  const name = `${ref.metadata.namespace}/${ref.metadata.name}`;
  let last = '';
  for (;;) {
    const deployment = await objects.read<KubeDeployment>(ref);
    if (!deployment) throw new ProviderError(`Deployment ${name} disappeared while Tollgate waited for it to be ready`);
    const rollout = rolloutState(deployment, FIELD_MANAGER);
    if (rollout.state === 'failed') {
      throw new ProviderError(
        `Deployment ${name} never became ready: ${rollout.reason} (progressDeadline ${options.progressDeadline})`,
        false,
      );
    }
    if (options.done(deployment)) return deployment;
    const detail = rollout.state === 'progressing' ? rollout.detail : 'rolling out';
    if (detail !== last) ctx.log.info({ deployment: name }, detail);
    last = detail;
    await sleep(options.intervalMs, undefined, { signal: ctx.signal });
  }
}

/** Replaces {{version}} in every string of a pod template. */
export function withVersion<T>(value: T, version: string): T {
  const replace = (item: unknown): unknown => {
    if (typeof item === 'string') return item.replaceAll('{{version}}', version);
    if (Array.isArray(item)) return item.map(replace);
    if (item && typeof item === 'object')
      return Object.fromEntries(Object.entries(item).map(([key, inner]) => [key, replace(inner)]));
    return item;
  };
  return replace(value) as T;
}
