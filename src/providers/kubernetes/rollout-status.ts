/** The parts of a Deployment that say how its rollout goes. */
export interface DeploymentLike {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export type RolloutState =
  { state: 'ready' } | { state: 'progressing'; detail: string } | { state: 'failed'; reason: string };

/**
 * Where a Deployment's rollout stands, read as `kubectl rollout status` reads it: failed when the
 * controller reports ProgressDeadlineExceeded, ready when it has seen the latest spec and every
 * wanted replica is updated and available with no old one left.
 */
export function rolloutState(deployment: DeploymentLike): RolloutState {
  const status = deployment.status ?? {};
  const wanted = deployment.spec?.replicas ?? 1;
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
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
