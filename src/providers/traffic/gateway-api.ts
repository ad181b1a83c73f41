import type { KubernetesObject } from '@kubernetes/client-node';
import type { RouteRequest, RouteSnapshot } from '../../domain/routing';
import type { GatewayApiTraffic } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { baselineAnnotation, recordedBaseline } from '../kubernetes/baseline-annotation';
import { kubernetesClient } from '../kubernetes/cluster-client';
import { KubeObjects, type ObjectRef } from '../kubernetes/objects';
import { updateObject } from '../kubernetes/update-object';
import { versionObjectName } from '../kubernetes/version-names';
import type { TrafficRouter } from './router';

const HTTP_ROUTE = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' } as const;

type BackendRef = Record<string, unknown> & { name?: string; weight?: number };
type Rule = Record<string, unknown> & { name?: string; backendRefs?: BackendRef[] };
type HttpRoute = KubernetesObject & { spec?: { rules?: Rule[] } };

/**
 * Canary weights on a Gateway API HTTPRoute, the router-neutral standard (Istio, Envoy Gateway,
 * Cilium, NGINX Gateway Fabric, ...). Tollgate manages the backendRefs of one rule: the baseline's
 * backends share what the canary does not take, and the new version's Service takes its weight.
 * Every other rule and every other field of that rule (matches, filters, timeouts) is written back
 * exactly as read, under the read's resourceVersion, so nothing another tool set is lost.
 */
export class GatewayApiTrafficRouter implements TrafficRouter {
  readonly type = 'gateway-api';
  readonly writesUnderFence = true;

  constructor(private readonly config: GatewayApiTraffic) {}

  async setWeight(ctx: ProviderContext, request: RouteRequest): Promise<RouteSnapshot> {
    let baseline = request.baseline;
    await updateObject<HttpRoute>(ctx, this.objects(ctx), this.ref(), (route) => {
      const { rules, index, part } = this.managedRule(route);
      baseline ??= this.snapshot(part, this.baselineRefs(ctx, route, rules[index], part));
      const wanted = this.wantedRefs(ctx, baseline, request.weight);
      const recorded = recordedBaseline(route as HttpRoute, ctx.facts.releaseId, part);
      if (sameRefs(rules[index].backendRefs ?? [], wanted) && recorded) return undefined;
      ctx.log.info(
        { httpRoute: this.name(), rule: part, weight: request.weight, backendRefs: wanted },
        'setting HTTPRoute weights',
      );
      return {
        ...HTTP_ROUTE,
        metadata: {
          name: this.config.httpRoute,
          namespace: this.config.namespace,
          annotations: baselineAnnotation(ctx.facts.releaseId, part, {
            backendRefs: baseline.kubernetes?.backendRefs ?? [],
          }),
        },
        spec: { rules: rules.map((rule, i) => (i === index ? { ...rule, backendRefs: wanted } : rule)) },
      };
    });
    if (!baseline) throw new ProviderError(`HTTPRoute ${this.name()} gave no baseline`);
    return baseline;
  }

  async verifyWeight(ctx: ProviderContext, request: RouteRequest): Promise<boolean> {
    const route = await this.objects(ctx).read<HttpRoute>(this.ref());
    const { rules, index, part } = this.managedRule(route);
    const baseline = request.baseline ?? this.snapshot(part, this.baselineRefs(ctx, route, rules[index], part));
    const wanted = this.wantedRefs(ctx, baseline, request.weight);
    const actual = rules[index].backendRefs ?? [];
    if (!sameRefs(actual, wanted)) {
      ctx.log.warn({ httpRoute: this.name(), actual, wanted }, 'HTTPRoute backendRefs differ from what Tollgate set');
      return false;
    }
    return true;
  }

  private objects(ctx: ProviderContext): KubeObjects {
    return new KubeObjects(kubernetesClient(this.config.cluster), ctx.signal);
  }

  private ref(): ObjectRef {
    return { ...HTTP_ROUTE, metadata: { name: this.config.httpRoute, namespace: this.config.namespace } };
  }

  private name(): string {
    return `${this.config.namespace}/${this.config.httpRoute}`;
  }

  /** The rule Tollgate manages: the one named traffic.rule, or the route's only rule. */
  private managedRule(route: HttpRoute | undefined): { rules: Rule[]; index: number; part: string } {
    if (!route)
      throw new ProviderError(
        `HTTPRoute ${this.name()} does not exist; create it (parentRefs and a rule sending to the stable version's Service) before releasing`,
        false,
      );
    const rules = route.spec?.rules ?? [];
    if (this.config.rule) {
      const index = rules.findIndex((rule) => rule.name === this.config.rule);
      if (index < 0)
        throw new ProviderError(
          `HTTPRoute ${this.name()} has no rule named "${this.config.rule}" (its rules: ${rules.map((rule, i) => rule.name ?? `#${i} unnamed`).join(', ') || 'none'}); fix traffic.rule`,
          false,
        );
      return { rules, index, part: `rule/${this.config.rule}` };
    }
    if (rules.length !== 1)
      throw new ProviderError(
        `HTTPRoute ${this.name()} has ${rules.length} rules; name the one Tollgate shifts with traffic.rule (set rules[].name on the route)`,
        false,
      );
    return { rules, index: 0, part: 'rule/0' };
  }

  /** The rule's backends before this release touched them: recorded on the route by its first shift, else as read now. */
  private baselineRefs(ctx: ProviderContext, route: HttpRoute | undefined, rule: Rule, part: string): BackendRef[] {
    const recorded = route && recordedBaseline(route, ctx.facts.releaseId, part);
    if (recorded?.backendRefs) return recorded.backendRefs;
    return rule.backendRefs ?? [];
  }

  private snapshot(part: string, backendRefs: BackendRef[]): RouteSnapshot {
    return { router: this.type, backend: `${this.name()}#${part}`, servers: [], kubernetes: { backendRefs } };
  }

  /**
   * At 0% the baseline exactly (a rollback restores what was there); above it, the new version's
   * Service gets `weight` and the baseline's backends share the rest in their old proportions.
   */
  private wantedRefs(ctx: ProviderContext, baseline: RouteSnapshot, weight: number): BackendRef[] {
    const canaryName = versionObjectName(ctx.facts.service, ctx.facts.version);
    const before = (baseline.kubernetes?.backendRefs ?? []) as BackendRef[];
    if (weight === 0) return before;
    const stable = before.filter((ref) => ref.name !== canaryName && (ref.weight ?? 1) > 0);
    const canary: BackendRef = { group: '', kind: 'Service', name: canaryName, port: this.config.port, weight };
    if (weight >= 100 || stable.length === 0) return [{ ...canary, weight: 100 }];
    const shares = apportion(
      stable.map((ref) => ref.weight ?? 1),
      100 - weight,
    );
    return [...stable.map((ref, i) => ({ ...ref, weight: shares[i] })), canary];
  }
}

/** Splits `total` in whole numbers in proportion to `weights` (largest remainder). */
export function apportion(weights: number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const exact = weights.map((weight) => (weight * total) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = exact.map((value, i) => ({ i, rest: value - Math.floor(value) })).sort((a, b) => b.rest - a.rest);
  for (const { i } of order) {
    if (left <= 0) break;
    shares[i] += 1;
    left -= 1;
  }
  return shares;
}

/** Equal as the API server means them: defaults filled in (group "", kind Service, weight 1). */
function sameRefs(a: BackendRef[], b: BackendRef[]): boolean {
  const normal = (refs: BackendRef[]) =>
    refs.map((ref) => JSON.stringify(sortKeys({ group: '', kind: 'Service', weight: 1, ...ref })));
  return JSON.stringify(normal(a)) === JSON.stringify(normal(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([key, item]) => [key, sortKeys(item)]),
    );
  return value;
}
