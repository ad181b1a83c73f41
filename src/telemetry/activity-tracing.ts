import crypto from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import type { Context as ActivityContext } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { RELEASE_ID_ATTRIBUTE } from './tracing';

/**
 * The trace of a release: one trace id derived from the release id, so every activity of the
 * release (on whichever worker, in whichever attempt) lands in the same trace without the
 * workflow carrying a trace context, which would cost memory in every cached workflow.
 */
export function releaseTraceId(releaseId: string): string {
  return crypto.createHash('sha256').update(releaseId).digest('hex').slice(0, 32);
}

/** A span per activity execution, a child of its release's trace. */
export class ReleaseTracingInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: ActivityContext,
    private readonly tracer: Tracer = trace.getTracer('tollgate'),
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = this.ctx.info;
    const workflowId = info.workflowExecution?.workflowId ?? 'standalone';
    const releaseId = workflowId.startsWith('lane:') ? undefined : workflowId;
    const parent = trace.setSpanContext(context.active(), {
      traceId: releaseTraceId(workflowId),
      // The release itself has no span of its own; a fixed parent id groups its activities.
      spanId: releaseTraceId(workflowId).slice(0, 16),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    const span = this.tracer.startSpan(
      `${info.activityType}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          ...(releaseId ? { [RELEASE_ID_ATTRIBUTE]: releaseId } : {}),
          temporalWorkflowId: workflowId,
          temporalActivityId: info.activityId,
          'tollgate.attempt': info.attempt,
        },
      },
      parent,
    );
    try {
      return await context.with(trace.setSpan(parent, span), () => next(input));
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  }
}
