/** Where a workflow shows in the Temporal UI: the CLI, Slack, the CI trigger and the demo link to it. */
export function temporalUiLink(uiUrl: string, workflowId: string, namespace = 'default'): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
