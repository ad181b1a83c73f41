/** Where one instance of a version listens. */
export interface Endpoint {
  host: string;
  port: number;
}

/**
 * A version that a deployer started, as the router and the analysis need to know it: its instances'
 * addresses. Kept in the release's history (addresses only, never credentials), so a router or a
 * smoke test on another worker finds the same instances.
 */
export interface Deployment {
  version: string;
  endpoints: Endpoint[];
}

export function endpointKey(endpoint: Endpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}
