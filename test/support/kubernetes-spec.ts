import { validateReleaseSpec } from '../../src/domain/parse-spec';
import type { ReleaseSpec, ReleaseSpecInput } from '../../src/domain/spec';
import { podTemplate, WORKER_CONTEXT } from './kubernetes';

export interface KubernetesSpecOptions {
  service: string;
  namespace: string;
  /** The worker's kubeconfig: a service-account token bound to deploy/kubernetes/rbac.yaml. */
  kubeconfig: string;
  version: string;
  strategy: ReleaseSpecInput['strategy'];
  /** The traffic provider; none for a Deployment updated in place (`inPlace`). */
  traffic?: 'gateway-api' | 'service-selector';
  /** Update this one Deployment in place (strategy recreate or rolling) instead of one per version. */
  inPlace?: string;
  replicas?: number;
  /** Merged into the pod template's container (resources that no node can give: never ready). */
  container?: Record<string, unknown>;
  /** Merged into the pod template's spec (a nodeSelector). */
  podSpec?: Record<string, unknown>;
  progressDeadline?: string;
  analysis?: ReleaseSpecInput['analysis'];
  execution?: ReleaseSpecInput['execution'];
}

/** A release of `service` to the test cluster, as a team would write it (docs/kubernetes.md). */
export function kubernetesSpec(options: KubernetesSpecOptions): ReleaseSpec {
  const cluster = { kubeconfig: options.kubeconfig, context: WORKER_CONTEXT };
  const input: ReleaseSpecInput = {
    service: options.service,
    environment: 'staging',
    version: options.version,
    deploy: {
      provider: 'kubernetes',
      cluster,
      namespace: options.namespace,
      ...(options.inPlace ? { deployment: options.inPlace } : {}),
      replicas: options.replicas ?? 2,
      template: withPodSpec(podTemplate(options.service, options.container), options.podSpec),
      service: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      progressDeadline: options.progressDeadline ?? '5m',
      pollInterval: '250ms',
    },
    traffic:
      options.traffic === 'gateway-api'
        ? {
            provider: 'gateway-api',
            cluster,
            namespace: options.namespace,
            httpRoute: options.service,
            rule: 'api',
            port: 80,
          }
        : options.traffic === 'service-selector'
          ? { provider: 'service-selector', cluster, namespace: options.namespace, service: options.service }
          : undefined,
    strategy: options.strategy,
    analysis: options.analysis,
    execution: { attempts: 2, heartbeatTimeout: '5s', stepTimeout: '5m', rollbackTimeout: '5m', ...options.execution },
  };
  return validateReleaseSpec(input, 'test spec');
}

function withPodSpec(template: ReturnType<typeof podTemplate>, podSpec: Record<string, unknown> = {}) {
  return { ...template, spec: { ...template.spec, ...podSpec } };
}
