/** How Kubernetes replaces the pods of one Deployment updated in place. */
export type UpdateStrategy = { type: 'Recreate' } | { type: 'RollingUpdate'; maxSurge: number; maxUnavailable: number };

/**
 * One step of an in-place update: at least `updated` of the Deployment's `replicas` pods on the
 * new version and available, the rollout held there (paused) for Tollgate's analysis, unless this
 * is the `final` step, which lets it finish.
 */
export interface RolloutRequest {
  updated: number;
  replicas: number;
  update: UpdateStrategy;
  final: boolean;
}

/** Where an in-place rollout stood when its step ended. */
export interface RolloutProgress {
  /** Pods on the new version. */
  updated: number;
  replicas: number;
}
