import { PayloadKeyUnknownToWorkers, unknownPayloadKeyOf } from './undecodable-workflow';
import { PayloadKeyCheck } from './payload-key-check';
import {
  type Client,
  type UpdateDefinition,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { ApprovalDecision } from '../domain/approval';
import type { DeployWindow } from '../domain/deploy-window';
import { deepestMessage, failureTypeOf } from '../domain/failures';
import { NotFound, refusalFor, TollgateError } from '../domain/errors';
import type { Freeze } from '../domain/lane-policy';
import {
  laneIdFor,
  releaseIdFor,
  releaseResultOfFailure,
  type LaneStatus,
  type ReleaseInput,
  type ReleaseResult,
  type ReleaseStatus,
} from '../domain/release';
import {
  queuedReleaseAttributes,
  ReleaseEnvironment,
  ReleaseInitiator,
  ReleaseService,
  ReleaseStage,
  ReleaseVersion,
  ReleaseWeight,
} from '../domain/search-attributes';
import type { Actor, ReleaseSpec } from '../domain/spec';
import type { Stage } from '../domain/stages';
import {
  abortSignal,
  approveUpdate,
  extendAnalysisSignal,
  freezeLaneUpdate,
  type LaneAnswer,
  inputQuery,
  laneStatusQuery,
  pauseSignal,
  promoteSignal,
  rejectUpdate,
  resumeSignal,
  rollbackUpdate,
  setLaneWindowsUpdate,
  statusQuery,
  unfreezeLaneUpdate,
  type ActorMessage,
  type ApprovalAnswer,
} from '../workflows/api';

export interface StartedRelease {
  releaseId: string;
  /** false when this exact release already runs: a retried request finds it instead of starting another. */
  started: boolean;
}

export interface ReleaseSummary {
  releaseId: string;
  service?: string;
  environment?: string;
  version?: string;
  stage?: string;
  weight?: number;
  initiator?: string;
  startTime: Date;
  closeTime?: Date;
}

/** A release that ran before under the same id; a new one needs `tollgate retry`. */
export class ReleaseExists extends TollgateError {
  constructor(message: string) {
    super('RELEASE_EXISTS', message);
  }
}

/**
 * Everything people do to releases, for the CLI, the Slack app and the CI trigger alike.
 * Refusals come back as TollgateErrors whose message is the workflow's own reason.
 */
export class ReleaseClient {
  private keyCheck?: PayloadKeyCheck;

  constructor(
    readonly client: Client,
    readonly taskQueue: string,
  ) {}

  async start(spec: ReleaseSpec, initiator: Actor, attempt = 1): Promise<StartedRelease> {
    const releaseId = releaseIdFor(spec, attempt);
    const input: ReleaseInput = { releaseId, spec, initiator, requestedAt: new Date().toISOString(), attempt };
    await this.workersCanDecrypt();
    try {
      await this.client.workflow.start('releaseWorkflow', {
        workflowId: releaseId,
        taskQueue: this.taskQueue,
        args: [input],
        // One release per id, ever: a duplicate request (a Slack retry, a CI job run twice) starts nothing.
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: queuedReleaseAttributes(spec, initiator.id),
        staticSummary: `Release ${spec.service} ${spec.version} to ${spec.environment}`,
        staticDetails: `Started by ${initiator.name ?? initiator.id} via ${initiator.via}${spec.commit ? ` from commit ${spec.commit.sha}` : ''}`,
      });
      return { releaseId, started: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const description = await this.client.workflow.getHandle(releaseId).describe();
      if (description.status.name === 'RUNNING') return { releaseId, started: false };
      const status = await this.status(releaseId).catch(() => undefined);
      throw new ReleaseExists(
        `${spec.service} ${spec.version} was already released to ${spec.environment} as ${releaseId}` +
          ` (${status?.stage ?? description.status.name.toLowerCase()}); run \`tollgate retry ${releaseId}\` to release it again`,
      );
    }
  }

  /** Starts the same spec again after a rollback or failure, under a new attempt number. */
  async retry(releaseId: string, initiator: Actor): Promise<StartedRelease> {
    const input = await this.handle(releaseId)
      .query(inputQuery)
      .catch((err) => this.rethrow(releaseId, err));
    const status = await this.status(releaseId);
    if (status.stage === 'Succeeded') {
      throw new TollgateError('RELEASE_SUCCEEDED', `${releaseId} succeeded; there is nothing to retry`);
    }
    if (!status.outcome)
      throw new TollgateError('RELEASE_RUNNING', `${releaseId} is still ${status.stage}; abort it first or wait`);
    for (let attempt = input.attempt + 1; attempt < input.attempt + 50; attempt++) {
      try {
        return await this.start(input.spec, initiator, attempt);
      } catch (err) {
        if (!(err instanceof ReleaseExists)) throw err;
      }
    }
    throw new TollgateError('RETRY_LIMIT', `too many retries of ${releaseId}`);
  }

  handle(releaseId: string): WorkflowHandle {
    return this.client.workflow.getHandle(releaseId);
  }

  async status(releaseId: string): Promise<ReleaseStatus> {
    return this.handle(releaseId)
      .query(statusQuery)
      .catch(async (err) => {
        // Asked only after a failed query: status is asked often, and a readable release answers at once.
        await this.decodableByWorkers(releaseId, releaseId);
        return this.rethrow(releaseId, err);
      });
  }

  /**
   * How the release ended. A release that did not succeed fails its workflow (so the Temporal UI
   * shows it as a failure) with its result as the failure's details; older releases completed
   * with it. Either way the caller gets the ReleaseResult.
   */
  async result(releaseId: string): Promise<ReleaseResult> {
    try {
      return (await this.handle(releaseId).result()) as ReleaseResult;
    } catch (err) {
      const result = (err as Error).name === 'WorkflowFailedError' ? releaseResultOfFailure(err) : undefined;
      if (result) return result;
      throw err;
    }
  }

  approve(releaseId: string, decision: ApprovalDecision): Promise<ApprovalAnswer> {
    return this.update(releaseId, () => this.handle(releaseId).executeUpdate(approveUpdate, { args: [decision] }));
  }

  reject(releaseId: string, decision: ApprovalDecision & { reason?: string }): Promise<ApprovalAnswer> {
    return this.update(releaseId, () => this.handle(releaseId).executeUpdate(rejectUpdate, { args: [decision] }));
  }

  rollback(releaseId: string, message: ActorMessage): Promise<{ message: string }> {
    return this.update(releaseId, () => this.handle(releaseId).executeUpdate(rollbackUpdate, { args: [message] }));
  }

  pause(releaseId: string, message: ActorMessage): Promise<void> {
    return this.signal(releaseId, () => this.handle(releaseId).signal(pauseSignal, message));
  }

  resume(releaseId: string, message: ActorMessage): Promise<void> {
    return this.signal(releaseId, () => this.handle(releaseId).signal(resumeSignal, message));
  }

  abort(releaseId: string, message: ActorMessage): Promise<void> {
    return this.signal(releaseId, () => this.handle(releaseId).signal(abortSignal, message));
  }

  promote(releaseId: string, message: ActorMessage & { full?: boolean }): Promise<void> {
    return this.signal(releaseId, () => this.handle(releaseId).signal(promoteSignal, message));
  }

  extendAnalysis(releaseId: string, message: ActorMessage): Promise<void> {
    return this.signal(releaseId, () => this.handle(releaseId).signal(extendAnalysisSignal, message));
  }

  /** Releases through Temporal visibility, newest first; the same filters the Temporal UI offers. */
  async list(
    filter: { service?: string; environment?: string; stage?: Stage; limit?: number } = {},
  ): Promise<ReleaseSummary[]> {
    const clauses = [`WorkflowType = 'releaseWorkflow'`];
    if (filter.service) clauses.push(`ReleaseService = '${quote(filter.service)}'`);
    if (filter.environment) clauses.push(`ReleaseEnvironment = '${quote(filter.environment)}'`);
    if (filter.stage) clauses.push(`ReleaseStage = '${quote(filter.stage)}'`);
    const releases: ReleaseSummary[] = [];
    for await (const execution of this.client.workflow.list({ query: clauses.join(' AND ') })) {
      const attributes = execution.typedSearchAttributes;
      releases.push({
        releaseId: execution.workflowId,
        service: attributes.get(ReleaseService),
        environment: attributes.get(ReleaseEnvironment),
        version: attributes.get(ReleaseVersion),
        stage: attributes.get(ReleaseStage),
        weight: attributes.get(ReleaseWeight),
        initiator: attributes.get(ReleaseInitiator),
        startTime: execution.startTime,
        closeTime: execution.closeTime,
      });
      if (releases.length >= (filter.limit ?? 50)) break;
    }
    return releases;
  }

  /** Lane decisions take the proof of who made them (src/domain/decision.ts); local mode sends none. */
  freeze(service: string, environment: string, freeze: Freeze, proof?: string): Promise<void> {
    return this.decideOnLane(service, environment, freezeLaneUpdate, { ...freeze, proof });
  }

  unfreeze(service: string, environment: string, by: string, reason: string, proof?: string): Promise<void> {
    return this.decideOnLane(service, environment, unfreezeLaneUpdate, { by, reason, proof });
  }

  setWindows(service: string, environment: string, by: string, windows: DeployWindow[], proof?: string): Promise<void> {
    return this.decideOnLane(service, environment, setLaneWindowsUpdate, { by, windows, proof });
  }

  async lane(service: string, environment: string): Promise<LaneStatus> {
    const laneId = laneIdFor(service, environment);
    // Asked first: a query of a lane no worker can read waits for an answer that never comes.
    await this.decodableByWorkers(laneId, `${service}/${environment}`);
    return this.client.workflow
      .getHandle(laneId)
      .query(laneStatusQuery)
      .catch(async (err) => {
        await this.decodableByWorkers(laneId, `${service}/${environment}`);
        return this.rethrow(laneId, err);
      });
  }

  /**
   * A decision on a lane, answered once the lane's worker has checked who sent it: a refused one
   * rejects with the reason. The lane is started first if it does not run yet.
   */
  private async decideOnLane<T>(
    service: string,
    environment: string,
    update: UpdateDefinition<LaneAnswer, [T]>,
    arg: T,
  ): Promise<void> {
    const laneId = laneIdFor(service, environment);
    await this.update(laneId, async () => {
      await this.client.workflow.start('laneWorkflow', {
        workflowId: laneId,
        taskQueue: this.taskQueue,
        args: [{ service, environment }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `Lane of ${service} in ${environment}: one release at a time`,
      });
      await this.client.workflow.getHandle(laneId).executeUpdate(update, { args: [arg] });
    });
  }

  private async update<T>(releaseId: string, call: () => Promise<T>): Promise<T> {
    await this.workersCanDecrypt();
    const giveUpAt = Date.now() + WORKFLOW_TASK_RETRY_MS;
    for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return await call();
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError || (err as Error).name === 'WorkflowUpdateFailedError') {
          throw refusalFor(failureTypeOf(err), deepestMessage(err));
        }
        // Temporal turns updates away while the release's last workflow task failed or timed out
        // (a worker stopped halfway through it); the next worker retries the task: so do we.
        if (!isWorkflowTaskFailing(err) || Date.now() > giveUpAt) {
          if (isWorkflowTaskFailing(err))
            throw new TollgateError(
              'RELEASE_STUCK',
              `${releaseId} cannot take decisions now: its workflow task keeps failing. Is a worker running on task queue ${this.taskQueue}? \`tollgate lane\` and the Temporal UI say more; nothing was decided`,
            );
          return this.rethrow(releaseId, err);
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async signal(releaseId: string, call: () => Promise<void>): Promise<void> {
    await this.workersCanDecrypt();
    try {
      await call();
    } catch (err) {
      this.rethrow(releaseId, err);
    }
  }

  /** Refuses to write a payload that the workers polling the task queue could not decrypt. */
  private async workersCanDecrypt(): Promise<void> {
    this.keyCheck ??= new PayloadKeyCheck(this.client, this.taskQueue);
    await this.keyCheck.ensureWorkersCanDecrypt();
  }

  /** Says what is wrong, and how to fix it, when the workers cannot decrypt a workflow's payloads. */
  private async decodableByWorkers(workflowId: string, what: string): Promise<void> {
    const keyId = await unknownPayloadKeyOf(this.client, workflowId);
    if (keyId !== undefined) throw new PayloadKeyUnknownToWorkers(what, keyId, this.taskQueue);
  }

  private rethrow(releaseId: string, err: unknown): never {
    if (err instanceof WorkflowNotFoundError || (err as Error).name === 'WorkflowNotFoundError') {
      throw new NotFound(`no release or lane called ${releaseId}; \`tollgate list\` shows the releases there are`);
    }
    throw err;
  }
}

/** gRPC's status code FAILED_PRECONDITION. */
const FAILED_PRECONDITION = 9;

/** How long a decision waits for a release whose workflow task is failing (a worker stopped during it). */
const WORKFLOW_TASK_RETRY_MS = 60_000;

/** Temporal's answer to an update while the workflow's last task failed: FAILED_PRECONDITION, retried by the next worker. */
function isWorkflowTaskFailing(err: unknown): boolean {
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    const code = (cause as Error & { code?: unknown }).code;
    if (code === FAILED_PRECONDITION && /workflow task in failed state/i.test(cause.message)) return true;
  }
  return false;
}

/** Visibility queries take string literals; a quote in a name would end the literal. */
function quote(value: string): string {
  return value.replace(/['\\]/g, '');
}
