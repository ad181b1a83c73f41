import type { Deployment } from '../domain/deployment';
import type { ReleaseFacts } from '../domain/release-facts';
import type { DeployProvider } from '../domain/spec';
import type { ActivityDeps } from './deps';
import { callProvider } from './provider-call';

export interface DeployRequest {
  facts: ReleaseFacts;
  config: DeployProvider;
  /** The version to start or stop: the new one, or the stable one when retiring or restoring it. */
  version: string;
  stepId: string;
  /** Set when this call undoes a step: it then retries until it succeeds or the rollback times out. */
  compensating?: boolean;
}

export function createDeployActivities(deps: ActivityDeps) {
  return {
    /** Starts a version and waits until it is ready for traffic; returns where it listens when the deployer knows. */
    async deploy({ facts, config, version, stepId, compensating }: DeployRequest): Promise<Deployment | undefined> {
      return callProvider(deps, facts, stepId, (ctx) => deps.providers.deployer(config).deploy(ctx, version), {
        compensating,
      });
    },
    /** Stops a version. */
    async undeploy({ facts, config, version, stepId, compensating }: DeployRequest): Promise<void> {
      await callProvider(deps, facts, stepId, (ctx) => deps.providers.deployer(config).undeploy(ctx, version), {
        compensating,
      });
    },
  };
}
