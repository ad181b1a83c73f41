/** Where the Temporal UI shows a workflow (a release, a lane), in the namespace it runs in. */
export function temporalUiLink(uiUrl: string, workflowId: string, namespace = 'default'): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
