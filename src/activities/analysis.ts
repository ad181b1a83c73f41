import { Context } from '@temporalio/activity';
import {
  isDecided,
  judgeMeasurements,
  type AnalysisVerdict,
  type Measurement,
  type TemplateResult,
} from '../domain/analysis';
import type { Deployment } from '../domain/deployment';
import { toMillis } from '../domain/duration';
import type { ReleaseFacts } from '../domain/release-facts';
import type { AnalysisTemplate } from '../domain/spec';
import type { ActivityDeps } from './deps';
import { callProvider } from './provider-call';

export interface AnalysisRequest {
  facts: ReleaseFacts;
  /** The template's name under `analysis:` in the spec. */
  name: string;
  template: AnalysisTemplate;
  /** Measure for this long, every `interval`; one measurement when absent. */
  durationMs?: number;
  weight: number;
  /** Where the new version listens, for sources that call it directly (smoke tests). */
  canary?: Deployment;
  stepId: string;
}

/** Evidence kept per measurement; long command output would bloat history for no reader. */
const MESSAGE_LIMIT = 300;
/** Heartbeat at least this often while waiting between measurements. */
const HEARTBEAT_EVERY_MS = 2000;

export function createAnalysisActivities(deps: ActivityDeps) {
  return {
    /**
     * Measures one template for the step's duration and returns its verdict with the evidence.
     * Measurements so far travel in heartbeat details, so a run on a worker that dies resumes
     * where it was instead of starting its clock again.
     */
    async runAnalysis(request: AnalysisRequest): Promise<TemplateResult> {
      const activity = Context.current();
      const { template } = request;
      const limits = { failureLimit: template.failureLimit, inconclusiveLimit: template.inconclusiveLimit };
      const intervalMs = toMillis(template.interval);
      const wanted = request.durationMs ? Math.max(1, Math.floor(request.durationMs / intervalMs)) : 1;
      const measurements: Measurement[] = [...((activity.info.heartbeatDetails as Measurement[] | undefined) ?? [])];
      const source = deps.providers.metricSource(template);

      while (measurements.length < wanted) {
        if (measurements.length > 0) await sleepWithHeartbeat(intervalMs, measurements);
        const measurement = await callProvider(
          deps,
          request.facts,
          request.stepId,
          (ctx) => source.measure(ctx, request.weight, { weight: request.weight, canary: request.canary }),
          {
            heartbeatDetails: () => measurements,
          },
        );
        measurements.push({ ...measurement, message: measurement.message.slice(0, MESSAGE_LIMIT) });
        activity.heartbeat(measurements);
        if (isDecided(measurements, limits)) break;
      }
      const verdict = judgeMeasurements(measurements, limits);
      const count = (phase: Measurement['phase']) => measurements.filter((m) => m.phase === phase).length;
      return {
        template: request.name,
        provider: template.provider,
        verdict,
        measurements,
        summary:
          `${request.name}: ${verdict} (${count('Successful')} ok, ${count('Failed')} failed, ${count('Inconclusive')} inconclusive, ` +
          `${count('Error')} errors of ${measurements.length}; failureLimit ${limits.failureLimit}, inconclusiveLimit ${limits.inconclusiveLimit})` +
          evidence(verdict, measurements),
      };
    },
  };
}

async function sleepWithHeartbeat(ms: number, details: Measurement[]): Promise<void> {
  const activity = Context.current();
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await activity.sleep(Math.min(HEARTBEAT_EVERY_MS, until - Date.now()));
    activity.heartbeat(details);
  }
}

/** The measurement that explains a verdict, so a person reads why without opening the history. */
function evidence(verdict: AnalysisVerdict, measurements: Measurement[]): string {
  const phase = verdict === 'Successful' ? 'Successful' : verdict;
  const telling =
    [...measurements].reverse().find((measurement) => measurement.phase === phase) ??
    measurements[measurements.length - 1];
  return telling ? `: ${telling.message}` : '';
}
