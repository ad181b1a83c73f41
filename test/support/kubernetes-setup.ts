import { startKubeStack } from '../../src/devstack/kubernetes/kube-stack';
import { KUBE_TEST_ENV } from './kubernetes';

/**
 * Starts the Kubernetes control plane the kubernetes project's tests share (built once and cached;
 * see src/devstack/kubernetes). Its admin kubeconfig only sets things up: Tollgate's workers in
 * the tests use service-account tokens bound to deploy/kubernetes/rbac.yaml.
 */
export default async function kubernetesSetup(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[kubernetes stack] ${line}\n`);
  const stack = await startKubeStack({ log });
  process.env[KUBE_TEST_ENV.adminKubeconfig] = stack.adminKubeconfig;
  Object.assign(globalThis, { __tollgateKubeStack: stack });
}
