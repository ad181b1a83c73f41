import type { KubernetesObject } from '@kubernetes/client-node';
import type { Deployment } from '../../domain/deployment';
import type { RolloutProgress, RolloutRequest } from '../../domain/rollout';
import { toMillis } from '../../domain/duration';
import type { KubernetesDeploy } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { kubernetesClient } from '../kubernetes/cluster-client';
import { FIELD_MANAGER, KubeObjects, type ObjectRef } from '../kubernetes/objects';
import { rolloutState } from '../kubernetes/rollout-status';
import { waitForDeployment, withVersion } from '../kubernetes/wait-for-deployment';
import { deleteObject, updateObject } from '../kubernetes/update-object';
import {
  ANNOTATIONS,
  LABELS,
  MANAGED_BY,
  labelValue,
  versionObjectName,
  versionSelector,
} from '../kubernetes/version-names';
import type { Deployer } from './deployer';
import { InPlaceDeployment } from './kubernetes-in-place';

/**
 * Each version as its own Deployment (and, with deploy.service, its own Service), beside the
 * versions already running: routers then split traffic between them. With deploy.deployment, one
 * Deployment updated in place instead (kubernetes-in-place.ts). Written with server-side apply as
 * field manager `tollgate`, resourceVersion preconditions and the lane's fence.
 */
export class KubernetesDeployer implements Deployer {
  readonly type = 'kubernetes';

  private readonly inPlace?: InPlaceDeployment;

  constructor(private readonly config: KubernetesDeploy) {
    if (config.deployment) this.inPlace = new InPlaceDeployment(config, config.deployment);
  }

  async deploy(ctx: ProviderContext, version: string): Promise<Deployment> {
    if (this.inPlace) return this.inPlace.prepare(ctx, this.objects(ctx), version);
    const objects = this.objects(ctx);
    const name = versionObjectName(ctx.facts.service, version);
    await updateObject(ctx, objects, this.ref('apps/v1', 'Deployment', name), (current) => {
      this.refuseForeign(current, name, version);
      return this.deploymentFor(ctx, version, name);
    });
    if (this.config.service) {
      await updateObject(ctx, objects, this.ref('v1', 'Service', name), (current) => {
        this.refuseForeign(current, name, version);
        return this.serviceFor(ctx, version, name);
      });
    }
    ctx.log.info(
      { deployment: `${this.config.namespace}/${name}`, version },
      'deployment applied; waiting until it is ready',
    );
    await this.waitUntilReady(ctx, objects, name);
    return {
      version,
      endpoints: (this.config.service?.ports ?? []).map((port) => ({
        host: `${name}.${this.config.namespace}.svc`,
        port: port.port,
      })),
    };
  }

  async rollout(ctx: ProviderContext, version: string, request: RolloutRequest): Promise<RolloutProgress> {
    if (!this.inPlace)
      throw new ProviderError(
        'this kubernetes deployer runs each version as its own Deployment; name the one to update in place with deploy.deployment',
        false,
      );
    return this.inPlace.rollout(ctx, this.objects(ctx), version, request);
  }

  async undeploy(ctx: ProviderContext, version: string): Promise<void> {
    if (this.inPlace) return this.inPlace.undo(ctx, this.objects(ctx), version);
    const objects = this.objects(ctx);
    const name = versionObjectName(ctx.facts.service, version);
    // Only what Tollgate made for this version: never a same-named object someone else owns.
    const ours = (current: KubernetesObject) =>
      current.metadata?.labels?.[LABELS.managedBy] === MANAGED_BY &&
      current.metadata?.annotations?.[ANNOTATIONS.version] === version;
    const removed = await deleteObject(ctx, objects, this.ref('apps/v1', 'Deployment', name), ours);
    if (this.config.service) await deleteObject(ctx, objects, this.ref('v1', 'Service', name), ours);
    ctx.log.info(
      { deployment: `${this.config.namespace}/${name}`, version, removed },
      removed ? 'deployment removed' : 'no deployment to remove',
    );
  }

  private objects(ctx: ProviderContext): KubeObjects {
    return new KubeObjects(kubernetesClient(this.config.cluster), ctx.signal);
  }

  private ref(apiVersion: string, kind: string, name: string): ObjectRef {
    return { apiVersion, kind, metadata: { name, namespace: this.config.namespace } };
  }

  /** A same-named object of another version or not made by Tollgate is left alone, with the reason. */
  private refuseForeign(current: KubernetesObject | undefined, name: string, version: string): void {
    if (!current) return;
    const labels = current.metadata?.labels ?? {};
    const theirs = current.metadata?.annotations?.[ANNOTATIONS.version];
    if (labels[LABELS.managedBy] !== MANAGED_BY) {
      throw new ProviderError(
        `${current.kind} ${this.config.namespace}/${name} exists and was not made by Tollgate (no ${LABELS.managedBy}=${MANAGED_BY}); rename or remove it, Tollgate will not take it over`,
        false,
      );
    }
    if (theirs !== version) {
      throw new ProviderError(
        `${current.kind} ${this.config.namespace}/${name} belongs to version ${theirs ?? 'unknown'}, whose name reads the same as ${version}; use versions that differ in more than case and punctuation`,
        false,
      );
    }
  }

  private metadata(ctx: ProviderContext, version: string, name: string) {
    return {
      name,
      namespace: this.config.namespace,
      labels: {
        ...versionSelector(ctx.facts.service, version),
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.release]: labelValue(ctx.facts.releaseId),
      },
      annotations: { [ANNOTATIONS.version]: version, [ANNOTATIONS.release]: ctx.facts.releaseId },
    };
  }

  private deploymentFor(ctx: ProviderContext, version: string, name: string): KubernetesObject {
    const template = withVersion(this.config.template, version);
    const selector = versionSelector(ctx.facts.service, version);
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: this.metadata(ctx, version, name),
      spec: {
        replicas: this.config.replicas,
        progressDeadlineSeconds: Math.max(1, Math.round(toMillis(this.config.progressDeadline) / 1000)),
        selector: { matchLabels: selector },
        template: {
          ...template,
          metadata: {
            ...template.metadata,
            labels: { ...template.metadata?.labels, ...selector, [LABELS.managedBy]: MANAGED_BY },
          },
        },
      },
    } as KubernetesObject;
  }

  private serviceFor(ctx: ProviderContext, version: string, name: string): KubernetesObject {
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: this.metadata(ctx, version, name),
      spec: {
        selector: versionSelector(ctx.facts.service, version),
        ports: (this.config.service?.ports ?? []).map((port) => ({
          ...(port.name ? { name: port.name } : {}),
          port: port.port,
          targetPort: port.targetPort ?? port.port,
          protocol: 'TCP',
        })),
      },
    } as KubernetesObject;
  }

  private async waitUntilReady(ctx: ProviderContext, objects: KubeObjects, name: string): Promise<void> {
    await waitForDeployment(ctx, objects, this.ref('apps/v1', 'Deployment', name), {
      intervalMs: toMillis(this.config.pollInterval),
      progressDeadline: this.config.progressDeadline,
      done: (deployment) => rolloutState(deployment, FIELD_MANAGER).state === 'ready',
    });
  }
}
