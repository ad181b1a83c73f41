import type { Deployment } from '../domain/deployment';
import type { Fence } from '../domain/fence';
import type { RolloutProgress, RolloutRequest } from '../domain/rollout';
import { ProviderError } from '../providers/context';
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
  /** The lane's fencing token for this change (absent in releases started before fencing). */
  fence?: Fence;
}

export function createDeployActivities(deps: ActivityDeps) {
  return {
    /** Starts a version and waits until it is ready for traffic; returns where it listens when the deployer knows. */
    async deploy({
      facts,
      config,
      version,
      stepId,
      compensating,
      fence,
    }: DeployRequest): Promise<Deployment | undefined> {
      return callProvider(deps, facts, stepId, (ctx) => deps.providers.deployer(config).deploy(ctx, version), {
        compensating,
        fence,
        writer: `${config.provider} deployer`,
      });
    },
    /** Moves a Deployment updated in place one batch further (strategy recreate, or rolling in place). */
    async rollout({
      facts,
      config,
      version,
      stepId,
      rollout,
      fence,
    }: DeployRequest & { rollout: RolloutRequest }): Promise<RolloutProgress> {
      return callProvider(
        deps,
        facts,
        stepId,
        (ctx) => {
          const deployer = deps.providers.deployer(config);
          if (!deployer.rollout)
            throw new ProviderError(
              `deploy.provider ${config.provider} runs each version beside the others and cannot update one in place; use kubernetes with deploy.deployment`,
              false,
            );
          return deployer.rollout(ctx, version, rollout);
        },
        { fence, writer: `${config.provider} deployer` },
      );
    },
    /** Stops a version. */
    async undeploy({ facts, config, version, stepId, compensating, fence }: DeployRequest): Promise<void> {
      await callProvider(deps, facts, stepId, (ctx) => deps.providers.deployer(config).undeploy(ctx, version), {
        compensating,
        fence,
        writer: `${config.provider} deployer`,
      });
    },
  };
}
