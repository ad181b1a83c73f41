import { endpointKey } from '../../domain/deployment';
import type { RouteRequest, RouteSnapshot, ServerState } from '../../domain/routing';
import { ProviderError } from '../context';

/** HAProxy's largest server weight. */
export const MAX_SERVER_WEIGHT = 256;

export interface SplitPlan {
  /** The routing before the release's first shift: the request's, or the current one with canary slots counted as free. */
  baseline: RouteSnapshot;
  /** Every server the shift touches, as it must be afterwards. */
  targets: ServerState[];
  canaryNames: Set<string>;
  stableNames: Set<string>;
}

/**
 * Works out the whole wanted state of a backend for one shift, from what it holds now. Pure, so the
 * router, its read-back and its tests agree on one answer.
 *
 * Stable servers are those serving in the baseline; the new version takes the slots already pointed
 * at its instances, then free ones (in maintenance first). Weights keep the exact ratio when they fit
 * in HAProxy's 1-256 (1:99 for 1%), and the closest ratio otherwise.
 */
export function planSplit(router: string, backend: string, current: ServerState[], request: RouteRequest): SplitPlan {
  const canaryKeys = new Set((request.canary?.endpoints ?? []).map(endpointKey));
  const keyOf = (server: ServerState) => endpointKey(server);
  const baseline: RouteSnapshot = request.baseline ?? {
    router,
    backend,
    // A retried first shift may already have enabled canary slots: they were free before the release.
    servers: current.map((server) =>
      canaryKeys.has(keyOf(server)) ? { ...server, weight: 0, state: 'maint' as const } : server,
    ),
  };
  const baselineByName = new Map(baseline.servers.map((server) => [server.name, server]));
  const stable = current.filter((server) => {
    const before = baselineByName.get(server.name);
    return before !== undefined && before.state === 'ready' && before.weight > 0 && !canaryKeys.has(keyOf(before));
  });
  const stableNames = new Set(stable.map((server) => server.name));

  // Slots for the new version: those already pointed at it, then free ones, maintenance first.
  const canary: { slot: ServerState; host: string; port: number }[] = [];
  const taken = new Set<string>();
  const endpoints = request.canary?.endpoints ?? [];
  for (const endpoint of endpoints) {
    const slot = current.find(
      (server) => !stableNames.has(server.name) && !taken.has(server.name) && keyOf(server) === endpointKey(endpoint),
    );
    if (slot) {
      taken.add(slot.name);
      canary.push({ slot, ...endpoint });
    }
  }
  const free = current
    .filter((server) => !stableNames.has(server.name) && !taken.has(server.name))
    .sort((a, b) => Number(a.state === 'ready') - Number(b.state === 'ready') || a.weight - b.weight);
  for (const endpoint of endpoints) {
    if (canary.some((entry) => entry.host === endpoint.host && entry.port === endpoint.port)) continue;
    const slot = free.shift();
    if (!slot) {
      throw new ProviderError(
        `backend ${backend} has no free server slot for ${request.canary?.version} at ${endpointKey(endpoint)}: ` +
          `${stable.length} slots serve the stable version and ${endpoints.length} instances need one each; ` +
          `declare more slots in haproxy.cfg (server-template slot 1-${2 * Math.max(endpoints.length, stable.length, 2)} 127.0.0.1:1 disabled)`,
        false,
      );
    }
    taken.add(slot.name);
    canary.push({ slot, ...endpoint });
  }
  const canaryNames = new Set(canary.map((entry) => entry.slot.name));

  const { canaryWeight, stableWeights } = weightsFor(request, stable, baselineByName, canary.length);
  const targets: ServerState[] = [];
  canary.forEach((entry, index) => {
    const weight = canaryWeight(index);
    const before = baselineByName.get(entry.slot.name);
    // Back to 0, the slot becomes exactly what it was before the release (out of rotation, its old address).
    const restore = request.weight === 0 && before !== undefined && before.state === 'maint';
    targets.push({
      name: entry.slot.name,
      host: restore ? before.host : entry.host,
      port: restore ? before.port : entry.port,
      weight,
      state: request.weight > 0 ? 'ready' : (before?.state ?? 'maint'),
    });
  });
  stable.forEach((server, index) => targets.push({ ...server, weight: stableWeights(index), state: 'ready' }));
  return { baseline, targets, canaryNames, stableNames };
}

function weightsFor(
  request: RouteRequest,
  stable: ServerState[],
  baseline: Map<string, ServerState>,
  canaryCount: number,
): { canaryWeight: (index: number) => number; stableWeights: (index: number) => number } {
  const { weight } = request;
  const baselineWeight = (index: number) => baseline.get(stable[index].name)?.weight ?? 1;
  if (weight === 0) return { canaryWeight: () => 0, stableWeights: baselineWeight };
  if (stable.length === 0 || weight === 100) return { canaryWeight: () => 1, stableWeights: () => 0 };

  if (request.mode === 'servers') {
    // Rolling: whole servers move. The first `active` canary servers take traffic and as many stable ones leave.
    const activeCanary = Math.min(canaryCount, Math.max(1, Math.round((weight * canaryCount) / 100)));
    const activeStable = Math.max(1, stable.length - Math.round((weight * stable.length) / 100));
    const typical = Math.max(
      1,
      Math.round(stable.reduce((sum, _server, index) => sum + baselineWeight(index), 0) / stable.length),
    );
    return {
      canaryWeight: (index) => (index < activeCanary ? typical : 0),
      stableWeights: (index) => (index < activeStable ? baselineWeight(index) : 0),
    };
  }

  // Each canary server gets c, each stable one s, with c·nc : s·ns = weight : 100 - weight.
  let c = weight * stable.length;
  let s = (100 - weight) * canaryCount;
  const divisor = gcd(c, s);
  c /= divisor;
  s /= divisor;
  if (Math.max(c, s) > MAX_SERVER_WEIGHT) {
    const scale = MAX_SERVER_WEIGHT / Math.max(c, s);
    c = Math.max(1, Math.round(c * scale));
    s = Math.max(1, Math.round(s * scale));
  }
  return { canaryWeight: () => c, stableWeights: () => s };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Runtime API commands that take a backend from `current` to `targets` without a moment where no
 * server may take a request: new slots are pointed and weighted while still out of rotation, weights
 * go up before others go down, and servers leave rotation last.
 */
export function commandsFor(backend: string, current: ServerState[], targets: ServerState[]): string[] {
  const now = new Map(current.map((server) => [server.name, server]));
  const id = (server: ServerState) => `${backend}/${server.name}`;
  const prepare: string[] = [];
  const raise: string[] = [];
  const enter: string[] = [];
  const lower: string[] = [];
  const leave: string[] = [];
  const afterwards: string[] = [];
  for (const target of targets) {
    const before = now.get(target.name);
    if (!before) continue;
    if (before.host !== target.host || before.port !== target.port) {
      // A server only changes address while out of rotation: before it enters, or after it leaves.
      const command = `set server ${id(target)} addr ${target.host} port ${target.port}`;
      if (before.state === 'ready' && target.state === 'maint') afterwards.push(command);
      else prepare.push(command);
    }
    if (target.weight !== before.weight) {
      const command = `set server ${id(target)} weight ${target.weight}`;
      if (before.state === 'maint') prepare.push(command);
      else if (target.weight > before.weight) raise.push(command);
      else lower.push(command);
    }
    if (target.state !== before.state) {
      (target.state === 'ready' ? enter : leave).push(`set server ${id(target)} state ${target.state}`);
    }
  }
  return [...prepare, ...raise, ...enter, ...lower, ...leave, ...afterwards];
}
