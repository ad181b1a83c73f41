import type { Deployment } from './deployment';

/** One server slot of a load balancer as read back from it. */
export interface ServerState {
  name: string;
  host: string;
  port: number;
  weight: number;
  /** ready: may take traffic (when its weight is above 0); maint: out of rotation. */
  state: 'ready' | 'maint';
}

/**
 * The routing a release found before its first shift. The traffic compensation restores exactly
 * this, and every shift of the release treats the servers that were serving in it as stable.
 */
export interface RouteSnapshot {
  router: string;
  backend: string;
  servers: ServerState[];
  /**
   * Routers whose routing is a Kubernetes object keep the part they manage as they read it (the
   * rule's backendRefs, the Service's selector), so a rollback restores it exactly; servers is then empty.
   */
  kubernetes?: KubernetesRouting;
}

/** The part of a Kubernetes object a router manages, as JSON read from the API server. */
export interface KubernetesRouting {
  backendRefs?: Record<string, unknown>[];
  selector?: Record<string, string>;
}

/** How a plan moves traffic: canary and blue-green set weights; rolling moves whole servers. */
export type ShiftMode = 'weights' | 'servers';

/** Everything a router needs for one shift, so every call states the whole wanted state (idempotent). */
export interface RouteRequest {
  /** Percent of requests for the new version. */
  weight: number;
  /** What the release last set. */
  previousWeight: number;
  /** The new version's instances, when its deployer reports them. */
  canary?: Deployment;
  /** The routing before the release's first shift; absent on the first shift, which returns it. */
  baseline?: RouteSnapshot;
  mode: ShiftMode;
}

/** The share of traffic a set of servers gets, in percent, as the load balancer would split it. */
export function trafficShare(servers: ServerState[], isCanary: (server: ServerState) => boolean): number {
  const serving = servers.filter((server) => server.state === 'ready' && server.weight > 0);
  const total = serving.reduce((sum, server) => sum + server.weight, 0);
  if (total === 0) return 0;
  return (100 * serving.filter(isCanary).reduce((sum, server) => sum + server.weight, 0)) / total;
}
