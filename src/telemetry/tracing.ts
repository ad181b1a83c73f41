import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** The attribute every Tollgate span carries, so a release's whole trace is one query away. */
export const RELEASE_ID_ATTRIBUTE = 'tollgate.release_id';

export interface Tracing {
  resource: Resource;
  spanProcessor: SpanProcessor;
  shutdown(): Promise<void>;
}

/**
 * Adds the release id to spans that name a workflow but lack it (the client interceptor's spans
 * name it as temporalWorkflowId); releases are the workflows whose id is not a lane's.
 */
export class ReleaseIdExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      const attributes = span.attributes;
      const workflowId = attributes.temporalWorkflowId ?? attributes.workflowId;
      if (typeof workflowId === 'string' && !workflowId.startsWith('lane:'))
        attributes[RELEASE_ID_ATTRIBUTE] = workflowId;
    }
    this.inner.export(spans, done);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * Sets up OpenTelemetry for a worker or client process: spans of activities and client calls, exported to an OTLP collector (OTEL_EXPORTER_OTLP_ENDPOINT, the standard variable) or to
 * the exporter given (tests). Returns undefined when neither is configured.
 */
export function setUpTracing(options: {
  serviceName: string;
  exporter?: SpanExporter;
  endpoint?: string;
}): Tracing | undefined {
  const inner =
    options.exporter ??
    (options.endpoint ? new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/$/, '')}/v1/traces` }) : undefined);
  if (!inner) return undefined;
  const resource = new Resource({ 'service.name': options.serviceName });
  const exporter = new ReleaseIdExporter(inner);
  // Tests read spans at once; a collector gets batches.
  const spanProcessor = options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource });
  provider.addSpanProcessor(spanProcessor);
  provider.register();
  return { resource, spanProcessor, shutdown: () => provider.shutdown() };
}
