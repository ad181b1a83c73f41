import type { AnalysisTemplate, DeployProvider, TrafficProvider } from '../domain/spec';
import type { Deployer } from './deploy/deployer';
import { ExecDeployer } from './deploy/exec';
import type { MetricSource } from './metrics/source';
import { ExecMetricSource } from './metrics/exec';
import type { TrafficRouter } from './traffic/router';
import { ExecTrafficRouter } from './traffic/exec';

/**
 * Builds the provider a spec names. Adding a provider: a schema in domain/spec.ts, a class in its
 * folder here, and one case below.
 */
export interface ProviderRegistry {
  deployer(config: DeployProvider): Deployer;
  trafficRouter(config: TrafficProvider): TrafficRouter;
  metricSource(config: AnalysisTemplate): MetricSource;
}

export function createProviderRegistry(): ProviderRegistry {
  return {
    deployer(config) {
      switch (config.provider) {
        case 'exec':
          return new ExecDeployer(config);
      }
    },
    trafficRouter(config) {
      switch (config.provider) {
        case 'exec':
          return new ExecTrafficRouter(config);
      }
    },
    metricSource(config) {
      switch (config.provider) {
        case 'exec':
          return new ExecMetricSource(config);
      }
    },
  };
}
