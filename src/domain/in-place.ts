import type { DeployProvider, KubernetesDeploy } from './spec';

/**
 * A kubernetes deployer that updates one Deployment in place (strategy recreate or rolling) rather
 * than running each version as its own Deployment. Kept apart from spec.ts so the workflow's plan
 * can ask without bundling zod.
 */
export function updatesInPlace(deploy: DeployProvider): deploy is KubernetesDeploy & { deployment: string } {
  return deploy.provider === 'kubernetes' && deploy.deployment !== undefined;
}
