import type { KubeStack } from '../../src/devstack/kubernetes/kube-stack';

export default async function kubernetesTeardown(): Promise<void> {
  const stack = (globalThis as { __tollgateKubeStack?: KubeStack }).__tollgateKubeStack;
  await stack?.stop();
}
