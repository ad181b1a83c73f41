import { stringify } from 'yaml';

/** A kubeconfig with one cluster, one token user and one context, as kubectl and the Node client read it. */
export function kubeconfigYaml(options: {
  server: string;
  caPem: string;
  token: string;
  context: string;
  user: string;
  namespace?: string;
}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: options.context,
        cluster: {
          server: options.server,
          'certificate-authority-data': Buffer.from(options.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: options.user, user: { token: options.token } }],
    contexts: [
      {
        name: options.context,
        context: {
          cluster: options.context,
          user: options.user,
          ...(options.namespace ? { namespace: options.namespace } : {}),
        },
      },
    ],
    'current-context': options.context,
  });
}
