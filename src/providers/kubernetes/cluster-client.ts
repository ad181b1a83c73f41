import os from 'node:os';
import path from 'node:path';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesCluster } from '../../domain/spec';
import { ProviderError } from '../context';

const clients = new Map<string, KubernetesObjectApi>();

/**
 * The API client for a spec's cluster: its kubeconfig file and context, the worker's default
 * kubeconfig (KUBECONFIG, ~/.kube/config), or the pod's service account in a cluster. One client
 * per cluster and context per worker: the config files are read once.
 */
export function kubernetesClient(cluster: KubernetesCluster): KubernetesObjectApi {
  const key = JSON.stringify([
    cluster.inCluster,
    cluster.kubeconfig ?? process.env.KUBECONFIG ?? '',
    cluster.context ?? '',
  ]);
  const cached = clients.get(key);
  if (cached) return cached;
  const client = KubernetesObjectApi.makeApiClient(loadKubeConfig(cluster));
  clients.set(key, client);
  return client;
}

export function loadKubeConfig(cluster: KubernetesCluster): KubeConfig {
  const kc = new KubeConfig();
  const where = cluster.inCluster
    ? 'the in-cluster service account'
    : (cluster.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config (or the in-cluster service account)');
  try {
    if (cluster.inCluster) kc.loadFromCluster();
    else if (cluster.kubeconfig) kc.loadFromFile(expandHome(cluster.kubeconfig));
    else kc.loadFromDefault();
  } catch (err) {
    throw new ProviderError(
      `cannot load Kubernetes credentials from ${where}: ${(err as Error).message}; set deploy/traffic.cluster.kubeconfig or the worker's KUBECONFIG`,
      false,
    );
  }
  if (cluster.context) {
    if (!kc.getContextObject(cluster.context)) {
      throw new ProviderError(
        `the kubeconfig ${where} has no context "${cluster.context}" (it has: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        }); fix cluster.context in the spec`,
        false,
      );
    }
    kc.setCurrentContext(cluster.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new ProviderError(
      `no Kubernetes cluster found in ${where}; set cluster.kubeconfig and cluster.context in the spec`,
      false,
    );
  }
  return kc;
}

function expandHome(file: string): string {
  return file.startsWith('~/') ? path.join(os.homedir(), file.slice(2)) : file;
}
