import type { Deployment } from '../../domain/deployment';
import { toMillis } from '../../domain/duration';
import type { RolloutProgress, RolloutRequest, UpdateStrategy } from '../../domain/rollout';
import type { KubernetesDeploy } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { FIELD_MANAGER, type KubeObjects, type ObjectRef } from '../kubernetes/objects';
import { rolloutState } from '../kubernetes/rollout-status';
import { deleteObject, updateObject } from '../kubernetes/update-object';
import { LABELS, MANAGED_BY, labelValue } from '../kubernetes/version-names';
import { waitForDeployment, withVersion, type KubeDeployment } from '../kubernetes/wait-for-deployment';

/** What ran before a release changed the Deployment, so its rollback can put it back. */
export const PREVIOUS_ANNOTATION = 'tollgate.io/previous';

interface PreviousState {
  releaseId: string;
  /** The release created the Deployment: undoing it deletes it. */
  created: boolean;
  /** The version that ran before, when Tollgate can tell. */
  version?: string;
  replicas?: number;
  strategy?: Record<string, unknown>;
  template?: Record<string, unknown>;
}

type InPlaceDeploymentObject = KubeDeployment & {
  spec?: {
    replicas?: number;
    selector?: Record<string, unknown>;
    progressDeadlineSeconds?: number;
    paused?: boolean;
    strategy?: Record<string, unknown>;
    template?: { metadata?: { labels?: Record<string, string> } } & Record<string, unknown>;
  };
};

/**
 * One Deployment updated in place with Kubernetes' own strategies: Recreate (all old pods stop,
 * then the new ones start) or RollingUpdate (maxSurge / maxUnavailable), held (spec.paused) after
 * each batch that Tollgate's analysis must judge. Kubernetes decides how far a batch goes; Tollgate
 * holds the rollout once at least the batch's pods are updated and available. Before the first
 * change, the Deployment's template, strategy and replicas are recorded on it (tollgate.io/previous),
 * and undeploying the new version puts them back.
 */
export class InPlaceDeployment {
  constructor(
    private readonly config: KubernetesDeploy,
    private readonly name: string,
  ) {}

  /** The deploy step: records what runs now. Changes no pod: the rollout steps do. */
  async prepare(ctx: ProviderContext, objects: KubeObjects, version: string): Promise<Deployment> {
    await updateObject<InPlaceDeploymentObject>(ctx, objects, this.ref(), (current) => {
      // Absent: the first rollout step creates it and records that it did.
      if (!current || previousState(current, ctx.facts.releaseId)) return undefined;
      return this.owned(ctx, current, this.recordOf(ctx, current));
    });
    ctx.log.info({ deployment: this.describe(), version }, 'recorded the Deployment as it runs before the update');
    return { version, endpoints: [] };
  }

  async rollout(
    ctx: ProviderContext,
    objects: KubeObjects,
    version: string,
    request: RolloutRequest,
  ): Promise<RolloutProgress> {
    await updateObject<InPlaceDeploymentObject>(ctx, objects, this.ref(), (current) =>
      this.rolloutBody(ctx, version, request, current, false),
    );
    ctx.log.info({ deployment: this.describe(), version, ...request }, 'rolling the Deployment out in place');
    const settled = (deployment: KubeDeployment) => {
      const status = deployment.status ?? {};
      return (
        (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
        (status.updatedReplicas ?? 0) >= request.updated &&
        (status.replicas ?? 0) <= request.replicas &&
        (status.availableReplicas ?? 0) >= request.replicas
      );
    };
    let deployment = await waitForDeployment(ctx, objects, this.ref(), {
      intervalMs: toMillis(this.config.pollInterval),
      progressDeadline: this.config.progressDeadline,
      done: request.final ? (d) => rolloutState(d, FIELD_MANAGER).state === 'ready' : settled,
    });
    if (!request.final) {
      // Hold the rollout where it got to, for the analysis that follows.
      deployment =
        (await updateObject<InPlaceDeploymentObject>(ctx, objects, this.ref(), (current) =>
          current?.spec?.paused ? undefined : this.rolloutBody(ctx, version, request, current, true),
        )) ?? deployment;
    }
    const updated = Math.min(deployment.status?.updatedReplicas ?? 0, request.replicas);
    return { updated, replicas: request.replicas };
  }

  /** Undeploying the new version: the Deployment as the release found it, or gone if the release made it. */
  async undo(ctx: ProviderContext, objects: KubeObjects, version: string): Promise<void> {
    let created = false;
    let recorded = false;
    await updateObject<InPlaceDeploymentObject>(ctx, objects, this.ref(), (current) => {
      // Not running that version (a retired stable version, a rollback already done): nothing to do.
      recorded = Boolean(current && previousState(current, ctx.facts.releaseId)?.created === false);
      if (!current || runningVersion(current) !== labelValue(version)) return undefined;
      const record = previousState(current, ctx.facts.releaseId);
      if (!record)
        throw new ProviderError(
          `Deployment ${this.describe()} runs ${version} but has no record of what ran before release ${ctx.facts.releaseId}; roll it back by hand (kubectl rollout undo)`,
          false,
        );
      if (record.created) {
        created = true;
        return undefined;
      }
      const body = this.owned(ctx, current, record);
      return {
        ...body,
        spec: {
          ...body.spec,
          replicas: record.replicas,
          paused: false,
          strategy:
            record.strategy?.type === 'Recreate' ? { ...record.strategy, rollingUpdate: null } : record.strategy,
          template: record.template,
        },
      };
    });
    if (created) {
      await deleteObject(ctx, objects, this.ref());
      ctx.log.info({ deployment: this.describe(), version }, 'removed the Deployment the release had created');
    } else if (recorded) {
      // Also when an earlier attempt restored it: this one still waits until it runs again.
      ctx.log.info(
        { deployment: this.describe(), version },
        'restored the Deployment as it ran before; waiting until it is ready',
      );
      await waitForDeployment(ctx, objects, this.ref(), {
        intervalMs: toMillis(this.config.pollInterval),
        progressDeadline: this.config.progressDeadline,
        done: (d) => rolloutState(d, FIELD_MANAGER).state === 'ready',
      });
    }
  }

  private ref(): ObjectRef {
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: this.name, namespace: this.config.namespace },
    };
  }

  private describe(): string {
    return `${this.config.namespace}/${this.name}`;
  }

  private recordOf(ctx: ProviderContext, current: InPlaceDeploymentObject): PreviousState {
    return {
      releaseId: ctx.facts.releaseId,
      created: false,
      version: current.metadata?.annotations?.['tollgate.io/version'] ?? runningVersion(current),
      replicas: current.spec?.replicas,
      strategy: current.spec?.strategy,
      template: current.spec?.template,
    };
  }

  /**
   * Every field Tollgate owns on the Deployment during a rollout: each apply repeats all of them,
   * since server-side apply removes a field its manager owned and left out.
   */
  private rolloutBody(
    ctx: ProviderContext,
    version: string,
    request: RolloutRequest,
    current: InPlaceDeploymentObject | undefined,
    paused: boolean,
  ): InPlaceDeploymentObject {
    const record = current
      ? (previousState(current, ctx.facts.releaseId) ?? this.recordOf(ctx, current))
      : { releaseId: ctx.facts.releaseId, created: true };
    const body = this.owned(ctx, current, record);
    return {
      ...body,
      metadata: {
        ...body.metadata,
        labels: { ...body.metadata?.labels, [LABELS.version]: labelValue(version) },
        annotations: { ...body.metadata?.annotations, 'tollgate.io/version': version },
      },
      spec: {
        ...body.spec,
        replicas: request.replicas,
        paused,
        progressDeadlineSeconds: Math.max(1, Math.round(toMillis(this.config.progressDeadline) / 1000)),
        strategy: strategyFor(request.update),
        selector: current?.spec?.selector ?? { matchLabels: { [LABELS.name]: ctx.facts.service } },
        template: this.templateFor(ctx, version),
      },
    };
  }

  /**
   * Every field Tollgate owns on the Deployment it updates in place, as they stand: each apply
   * states all of them (changing some), since server-side apply removes a field its manager owned
   * and left out. While Tollgate updates a Deployment in place, its spec is Tollgate's.
   */
  private owned(
    ctx: ProviderContext,
    current: InPlaceDeploymentObject | undefined,
    record: PreviousState,
  ): InPlaceDeploymentObject {
    const labels = current?.metadata?.labels ?? {};
    const annotations = current?.metadata?.annotations ?? {};
    const spec = current?.spec;
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: this.name,
        namespace: this.config.namespace,
        labels: {
          [LABELS.name]: ctx.facts.service,
          [LABELS.managedBy]: MANAGED_BY,
          ...(labels[LABELS.version] ? { [LABELS.version]: labels[LABELS.version] } : {}),
        },
        annotations: {
          [PREVIOUS_ANNOTATION]: JSON.stringify(record),
          'tollgate.io/release-id': ctx.facts.releaseId,
          ...(annotations['tollgate.io/version'] ? { 'tollgate.io/version': annotations['tollgate.io/version'] } : {}),
        },
      },
      spec: spec && {
        selector: spec.selector,
        replicas: spec.replicas,
        paused: spec.paused ?? false,
        progressDeadlineSeconds: spec.progressDeadlineSeconds,
        strategy: spec.strategy,
        template: spec.template,
      },
    };
  }

  private templateFor(ctx: ProviderContext, version: string) {
    const template = withVersion(this.config.template, version);
    return {
      ...template,
      metadata: {
        ...template.metadata,
        labels: {
          ...template.metadata?.labels,
          [LABELS.name]: ctx.facts.service,
          [LABELS.version]: labelValue(version),
          [LABELS.managedBy]: MANAGED_BY,
        },
      },
    };
  }
}

/** Kubernetes refuses a Recreate strategy that still carries rollingUpdate: clear it explicitly. */
function strategyFor(update: UpdateStrategy): Record<string, unknown> {
  return update.type === 'Recreate'
    ? { type: 'Recreate', rollingUpdate: null }
    : { type: 'RollingUpdate', rollingUpdate: { maxSurge: update.maxSurge, maxUnavailable: update.maxUnavailable } };
}

function runningVersion(deployment: InPlaceDeploymentObject): string | undefined {
  return deployment.spec?.template?.metadata?.labels?.[LABELS.version];
}

function previousState(deployment: InPlaceDeploymentObject, releaseId: string): PreviousState | undefined {
  const raw = deployment.metadata?.annotations?.[PREVIOUS_ANNOTATION];
  if (!raw) return undefined;
  try {
    const record = JSON.parse(raw) as PreviousState;
    return record.releaseId === releaseId ? record : undefined;
  } catch {
    return undefined;
  }
}
