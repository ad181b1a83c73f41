import type { Knex } from 'knex';
import { deliveryMetrics, type DeploymentFrequency, type DeliveryMetrics } from './dora';

/**
 * Delivery metrics of a pipeline, from the audit log of its environments' releases (each carries
 * the commit it delivers, from the pipeline's start request):
 *
 * - lead time for changes: commit → Succeeded release in production (the last environment, or the
 *   one named), not in staging: a change is delivered when users have it;
 * - deployment frequency: Succeeded releases per day, per environment;
 * - change failure rate and time to restore: production only by default (a failure caught in
 *   staging is the pipeline working), or every environment with `failuresIn: 'all'`.
 */
export interface PipelineMetricsQuery {
  service: string;
  /** In pipeline order. */
  environments: string[];
  /** The environment lead time ends in; the last one when absent. */
  production?: string;
  failuresIn?: 'production' | 'all';
  since: Date;
  until?: Date;
}

export interface PipelineDeliveryMetrics {
  service: string;
  production: string;
  window: { since: string; until: string; days: number };
  leadTimeToProduction: DeliveryMetrics['leadTimeForChanges'];
  deploymentFrequency: { environment: string; frequency: DeploymentFrequency }[];
  failuresIn: 'production' | 'all';
  changeFailureRate: DeliveryMetrics['changeFailureRate'];
  timeToRestore: DeliveryMetrics['timeToRestore'];
}

export async function pipelineDeliveryMetrics(db: Knex, query: PipelineMetricsQuery): Promise<PipelineDeliveryMetrics> {
  const production = query.production ?? query.environments[query.environments.length - 1];
  const failuresIn = query.failuresIn ?? 'production';
  const range = { since: query.since, until: query.until };
  const [inProduction, everywhere] = await Promise.all([
    deliveryMetrics(db, { service: query.service, environment: production, ...range }),
    deliveryMetrics(db, { service: query.service, ...range }),
  ]);
  const failures = failuresIn === 'production' ? inProduction.overall : everywhere.overall;
  return {
    service: query.service,
    production,
    window: everywhere.window,
    leadTimeToProduction: inProduction.overall.leadTimeForChanges,
    deploymentFrequency: query.environments.map((environment) => ({
      environment,
      frequency: everywhere.byLane.find((lane) => lane.environment === environment)?.deploymentFrequency ?? {
        deployments: 0,
        perDay: 0,
        band: 'low',
      },
    })),
    failuresIn,
    changeFailureRate: failures.changeFailureRate,
    timeToRestore: failures.timeToRestore,
  };
}
