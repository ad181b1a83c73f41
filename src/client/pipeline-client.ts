import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { NotFound } from '../domain/errors';
import { FailureType } from '../domain/failures';
import {
  pipelineHeadIdFor,
  pipelineIdFor,
  type PipelineHeadStatus,
  type PipelineInput,
  type PipelineResult,
  type PipelineStatus,
} from '../domain/pipeline';
import {
  ReleaseEnvironment,
  ReleaseInitiator,
  ReleaseService,
  ReleaseStage,
  ReleaseVersion,
} from '../domain/search-attributes';
import type { Actor } from '../domain/spec';
import type { LoadedPipeline } from '../specs/load-pipeline-file';
import { pipelineHeadStatusQuery, pipelineStatusQuery } from '../workflows/pipeline/api';

export interface StartedPipeline {
  pipelineId: string;
  /** false when a run of this commit already runs: a retried request finds it instead of starting another. */
  started: boolean;
}

export interface PipelineSummary {
  pipelineId: string;
  service?: string;
  version?: string;
  /** The environment the run is in or was last in. */
  environment?: string;
  /** Pipeline while it starts, Gated or Releasing while it runs, then its outcome. */
  stage?: string;
  initiator?: string;
  startTime: Date;
  closeTime?: Date;
}

/** Pipeline runs for the CLI, the CI trigger and the Slack app: start one per commit, read them back. */
export class PipelineClient {
  constructor(
    readonly client: Client,
    readonly taskQueue: string,
  ) {}

  async start(pipeline: LoadedPipeline, initiator: Actor): Promise<StartedPipeline> {
    const name = pipeline.spec.pipeline ?? pipeline.spec.service;
    const pipelineId = pipelineIdFor(name, pipeline.commit.sha);
    const input: PipelineInput = {
      pipelineId,
      pipeline: name,
      service: pipeline.spec.service,
      version: pipeline.version,
      commit: pipeline.commit,
      initiator,
      requestedAt: new Date().toISOString(),
      stages: pipeline.stages,
      ...(pipeline.spec.notify ? { notify: pipeline.spec.notify } : {}),
    };
    const route = pipeline.stages.map((stage) => stage.environment).join(' → ');
    try {
      await this.client.workflow.start('pipelineWorkflow', {
        workflowId: pipelineId,
        taskQueue: this.taskQueue,
        args: [input],
        // One run per commit: a duplicate request (CI re-run, a Slack retry) starts nothing.
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: ReleaseService, value: input.service },
          { key: ReleaseVersion, value: input.version },
          { key: ReleaseInitiator, value: initiator.id },
          { key: ReleaseStage, value: 'Pipeline' },
        ],
        staticSummary: `Pipeline ${name} ${input.version}: ${route}`,
        staticDetails: `Commit ${input.commit.sha}${input.commit.message ? ` (${input.commit.message})` : ''}, started by ${initiator.name ?? initiator.id} via ${initiator.via}`,
      });
      return { pipelineId, started: true };
    } catch (err) {
      if (
        !(err instanceof WorkflowExecutionAlreadyStartedError) &&
        (err as Error).name !== 'WorkflowExecutionAlreadyStartedError'
      )
        throw err;
      return { pipelineId, started: false };
    }
  }

  async status(pipelineId: string): Promise<PipelineStatus> {
    return this.client.workflow
      .getHandle(pipelineId)
      .query(pipelineStatusQuery)
      .catch((err) => this.rethrow(pipelineId, err));
  }

  async head(pipeline: string): Promise<PipelineHeadStatus> {
    const headId = pipelineHeadIdFor(pipeline);
    return this.client.workflow
      .getHandle(headId)
      .query(pipelineHeadStatusQuery)
      .catch((err) => this.rethrow(headId, err));
  }

  /** How the run ended; a failed or rejected run fails its workflow with this as the failure's details. */
  async result(pipelineId: string): Promise<PipelineResult> {
    try {
      return (await this.client.workflow.getHandle(pipelineId).result()) as PipelineResult;
    } catch (err) {
      const cause = (err as { cause?: { name?: string; type?: string; details?: unknown[] } }).cause;
      if (cause?.type === FailureType.PipelineStopped && cause.details?.[0]) return cause.details[0] as PipelineResult;
      throw err;
    }
  }

  /** Runs through Temporal visibility, newest first. */
  async list(filter: { service?: string; limit?: number } = {}): Promise<PipelineSummary[]> {
    const clauses = [`WorkflowType = 'pipelineWorkflow'`];
    if (filter.service) clauses.push(`ReleaseService = '${filter.service.replace(/['\\]/g, '')}'`);
    const runs: PipelineSummary[] = [];
    for await (const execution of this.client.workflow.list({ query: clauses.join(' AND ') })) {
      const attributes = execution.typedSearchAttributes;
      runs.push({
        pipelineId: execution.workflowId,
        service: attributes.get(ReleaseService),
        version: attributes.get(ReleaseVersion),
        environment: attributes.get(ReleaseEnvironment),
        stage: attributes.get(ReleaseStage),
        initiator: attributes.get(ReleaseInitiator),
        startTime: execution.startTime,
        closeTime: execution.closeTime,
      });
      if (runs.length >= (filter.limit ?? 50)) break;
    }
    return runs;
  }

  private rethrow(id: string, err: unknown): never {
    if (err instanceof WorkflowNotFoundError || (err as Error).name === 'WorkflowNotFoundError')
      throw new NotFound(`no pipeline run called ${id}; \`tollgate pipeline list\` shows the runs there are`);
    throw err;
  }
}
