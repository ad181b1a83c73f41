import type { Deployment } from '../../domain/deployment';
import type { RolloutProgress, RolloutRequest } from '../../domain/rollout';
import type { ProviderContext } from '../context';

/**
 * Starts and stops versions of a service. Both methods must be idempotent: Temporal runs a step
 * again when a worker dies during it, and a rollback may stop what never fully started.
 */
export interface Deployer {
  /** The provider's name as written in specs: `deploy.provider`. */
  readonly type: string;
  /**
   * Starts `version` beside whatever runs now and resolves once it is ready for traffic, with where
   * its instances listen when the deployer knows (routers and smoke tests need it); throws if it
   * never becomes ready.
   */
  deploy(ctx: ProviderContext, version: string): Promise<Deployment | undefined>;
  /** Stops `version`: retires the old version after a release, or removes the new one on rollback. Succeeds if nothing runs. */
  undeploy(ctx: ProviderContext, version: string): Promise<void>;
  /**
   * Only for deployers that update one deployment in place (kubernetes with `deployment`): moves at
   * least `request.updated` of its pods to `version` with the update strategy given, resolves once
   * they are available, and holds the rollout there until the next call (unless `request.final`,
   * which lets it finish). Idempotent: a count already reached changes nothing. Its undoing is
   * `undeploy(version)`, which puts the deployment back as `deploy` found it.
   */
  rollout?(ctx: ProviderContext, version: string, request: RolloutRequest): Promise<RolloutProgress>;
}
