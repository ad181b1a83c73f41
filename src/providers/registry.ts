import type {
  AnalysisTemplate,
  DeployProvider,
  FlagProvider as FlagProviderConfig,
  TrafficProvider,
} from '../domain/spec';
import type { FlagProvider } from './flags/flag-provider';
import { ExecFlagProvider } from './flags/exec';
import { UnleashFlagProvider } from './flags/unleash';
import type { Deployer } from './deploy/deployer';
import { ExecDeployer } from './deploy/exec';
import { KubernetesDeployer } from './deploy/kubernetes';
import { ProcessDeployer } from './deploy/process';
import type { MetricSource } from './metrics/source';
import { ComparisonMetricSource } from './metrics/comparison';
import { ExecMetricSource } from './metrics/exec';
import { HttpMetricSource } from './metrics/http';
import { PrometheusMetricSource } from './metrics/prometheus';
import type { TrafficRouter } from './traffic/router';
import { ExecTrafficRouter } from './traffic/exec';
import { GatewayApiTrafficRouter } from './traffic/gateway-api';
import { HaproxyTrafficRouter } from './traffic/haproxy';
import { ServiceSelectorTrafficRouter } from './traffic/service-selector';

/**
 * Builds the provider a spec names. Adding a provider: a schema in domain/spec.ts, a class in its
 * folder here, and one case below.
 */
export interface ProviderRegistry {
  deployer(config: DeployProvider): Deployer;
  trafficRouter(config: TrafficProvider): TrafficRouter;
  metricSource(config: AnalysisTemplate): MetricSource;
  /** `environment` is the release's: the flag service's environment unless the spec names another. */
  flagProvider(config: FlagProviderConfig, environment: string): FlagProvider;
}

export function createProviderRegistry(): ProviderRegistry {
  return {
    deployer(config) {
      switch (config.provider) {
        case 'exec':
          return new ExecDeployer(config);
        case 'process':
          return new ProcessDeployer(config);
        case 'kubernetes':
          return new KubernetesDeployer(config);
      }
    },
    trafficRouter(config) {
      switch (config.provider) {
        case 'exec':
          return new ExecTrafficRouter(config);
        case 'haproxy':
          return new HaproxyTrafficRouter(config);
        case 'gateway-api':
          return new GatewayApiTrafficRouter(config);
        case 'service-selector':
          return new ServiceSelectorTrafficRouter(config);
      }
    },
    metricSource(config) {
      switch (config.provider) {
        case 'exec':
          return new ExecMetricSource(config);
        case 'prometheus':
          return new PrometheusMetricSource(config);
        case 'http':
          return new HttpMetricSource(config);
        case 'comparison':
          return new ComparisonMetricSource(config);
      }
    },
    flagProvider(config, environment) {
      switch (config.provider) {
        case 'unleash':
          return new UnleashFlagProvider(config, environment);
        case 'exec':
          return new ExecFlagProvider(config);
      }
    },
  };
}
