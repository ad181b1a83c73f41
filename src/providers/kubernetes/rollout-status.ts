/** The parts of a Deployment that say how its rollout goes. */
export interface DeploymentLike {
  metadata?: {
    generation?: number;
    managedFields?: { manager?: string; operation?: string; time?: Date | string }[];
  };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastUpdateTime?: Date | string;
    }[];
  };
}

export type RolloutState =
  { state: 'ready' } | { state: 'progressing'; detail: string } | { state: 'failed'; reason: string };

/**
 * Where a Deployment's rollout stands, read as `kubectl rollout status` reads it: failed when the
 * controller reports ProgressDeadlineExceeded, ready when it has seen the latest spec and every
 * wanted replica is updated and available with no old one left.
 */
export function rolloutState(deployment: DeploymentLike, manager?: string): RolloutState {
  const status = deployment.status ?? {};
  const wanted = deployment.spec?.replicas ?? 1;
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  // A deadline exceeded before `manager` last applied a change (a rollout this one replaces) is not this rollout's.
  const since = manager ? lastApplied(deployment, manager) : undefined;
  const current = !since || !progressing?.lastUpdateTime || new Date(progressing.lastUpdateTime) >= since;
  if (progressing?.reason === 'ProgressDeadlineExceeded' && current) {
    return {
      state: 'failed',
      reason: `ProgressDeadlineExceeded${progressing.message ? `: ${progressing.message}` : ''}`,
    };
  }
  if ((status.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0)) {
    return { state: 'progressing', detail: 'waiting for the deployment controller to see the new spec' };
  }
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  if (updated < wanted) return { state: 'progressing', detail: `${updated} of ${wanted} replicas updated` };
  if (total > updated) return { state: 'progressing', detail: `${total - updated} old replicas still running` };
  if (available < wanted) return { state: 'progressing', detail: `${available} of ${wanted} replicas available` };
  return { state: 'ready' };
}

/** When a field manager last applied a change to the object, by the API server's clock. */
function lastApplied(deployment: DeploymentLike, manager: string): Date | undefined {
  const times = (deployment.metadata?.managedFields ?? [])
    .filter((entry) => entry.manager === manager && entry.operation === 'Apply' && entry.time)
    .map((entry) => new Date(entry.time ?? 0).getTime());
  return times.length ? new Date(Math.max(...times)) : undefined;
}
