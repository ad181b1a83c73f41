import type { KubernetesObject } from '@kubernetes/client-node';
import type { RouteRequest, RouteSnapshot } from '../../domain/routing';
import type { ServiceSelectorTraffic } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { baselineAnnotation, recordedBaseline } from '../kubernetes/baseline-annotation';
import { kubernetesClient } from '../kubernetes/cluster-client';
import { KubeObjects, type ObjectRef } from '../kubernetes/objects';
import { updateObject } from '../kubernetes/update-object';
import { versionSelector } from '../kubernetes/version-names';
import type { TrafficRouter } from './router';

type Service = KubernetesObject & { spec?: { selector?: Record<string, string> } };

const PART = 'selector';

/**
 * Blue-green the Kubernetes way: the Service users reach selects the new version's pods (100%),
 * and its selector as found before the release is put back on rollback (0%). Only the selector is
 * written; ports and everything else stay as their owners set them.
 */
export class ServiceSelectorTrafficRouter implements TrafficRouter {
  readonly type = 'service-selector';
  readonly writesUnderFence = true;

  constructor(private readonly config: ServiceSelectorTraffic) {}

  async setWeight(ctx: ProviderContext, request: RouteRequest): Promise<RouteSnapshot> {
    this.requireAllOrNothing(request.weight);
    let baseline = request.baseline;
    await updateObject<Service>(ctx, this.objects(ctx), this.ref(), (service) => {
      const current = this.selectorOf(service);
      baseline ??= this.snapshot(recordedBaseline(service as Service, ctx.facts.releaseId, PART)?.selector ?? current);
      const wanted = this.wantedSelector(ctx, baseline, request.weight);
      const recorded = recordedBaseline(service as Service, ctx.facts.releaseId, PART);
      if (sameSelector(current, wanted) && recorded) return undefined;
      ctx.log.info(
        { service: this.name(), weight: request.weight, selector: wanted },
        'switching the Service selector',
      );
      return {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: this.config.service,
          namespace: this.config.namespace,
          annotations: baselineAnnotation(ctx.facts.releaseId, PART, { selector: baseline.kubernetes?.selector ?? {} }),
        },
        spec: { selector: wanted },
      };
    });
    if (!baseline) throw new ProviderError(`Service ${this.name()} gave no baseline`);
    return baseline;
  }

  async verifyWeight(ctx: ProviderContext, request: RouteRequest): Promise<boolean> {
    const service = await this.objects(ctx).read<Service>(this.ref());
    const current = this.selectorOf(service);
    const baseline =
      request.baseline ??
      this.snapshot(recordedBaseline(service as Service, ctx.facts.releaseId, PART)?.selector ?? current);
    const wanted = this.wantedSelector(ctx, baseline, request.weight);
    if (!sameSelector(current, wanted)) {
      ctx.log.warn({ service: this.name(), current, wanted }, 'Service selector differs from what Tollgate set');
      return false;
    }
    return true;
  }

  private requireAllOrNothing(weight: number): void {
    if (weight !== 0 && weight !== 100)
      throw new ProviderError(
        `a Service selector sends all traffic to one version, so it cannot set ${weight}%; use strategy.blueGreen, or traffic.provider: gateway-api for canary weights`,
        false,
      );
  }

  private objects(ctx: ProviderContext): KubeObjects {
    return new KubeObjects(kubernetesClient(this.config.cluster), ctx.signal);
  }

  private ref(): ObjectRef {
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: this.config.service, namespace: this.config.namespace },
    };
  }

  private name(): string {
    return `${this.config.namespace}/${this.config.service}`;
  }

  private selectorOf(service: Service | undefined): Record<string, string> {
    if (!service)
      throw new ProviderError(
        `Service ${this.name()} does not exist; create it, selecting the stable version's pods, before releasing`,
        false,
      );
    return service.spec?.selector ?? {};
  }

  private snapshot(selector: Record<string, string>): RouteSnapshot {
    return { router: this.type, backend: this.name(), servers: [], kubernetes: { selector } };
  }

  /** 100%: the baseline's selector narrowed to the new version's pods; 0%: the baseline's, exactly. */
  private wantedSelector(ctx: ProviderContext, baseline: RouteSnapshot, weight: number): Record<string, string> {
    const before = baseline.kubernetes?.selector ?? {};
    return weight === 0 ? before : { ...before, ...versionSelector(ctx.facts.service, ctx.facts.version) };
  }
}

function sameSelector(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key] === b[key]);
}
