import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../domain/failures';
import { toMillis } from '../domain/duration';
import { judgeBurnRate, type ErrorBudgetReading } from '../domain/error-budget';
import { MissingFact, renderQuery } from '../domain/query-template';
import type { ReleaseFacts } from '../domain/release-facts';
import type { ErrorBudget } from '../domain/spec';
import { ProviderError } from '../providers/context';
import { PrometheusClient, QueryRejected } from '../providers/metrics/prometheus-client';
import { describeError } from '../providers/metrics/prometheus';
import type { ActivityDeps } from './deps';

export interface ErrorBudgetRequest {
  facts: ReleaseFacts;
  config: ErrorBudget;
}

export function createErrorBudgetActivities(deps: ActivityDeps) {
  return {
    /**
     * Reads the service's burn rate. Never throws for an unreadable metric: it answers "closed,
     * not measured" and the release holds and asks again, rather than guessing either way.
     */
    async checkErrorBudget({ facts, config }: ErrorBudgetRequest): Promise<ErrorBudgetReading> {
      const log = deps.log.child({ releaseId: facts.releaseId });
      let query: string;
      try {
        query = renderQuery(config.errorRatioQuery, facts, { window: promDuration(config.window) });
      } catch (err) {
        // A lane's first release has no stable version to measure: nothing to protect yet.
        if (err instanceof MissingFact)
          return { open: true, measured: false, reason: `error budget not checked: ${err.message}` };
        throw err;
      }
      try {
        const client = new PrometheusClient(config.address, config.headers, toMillis(config.timeout));
        const series = await client.instant(query);
        const values = series.map((entry) => entry.values[0]).filter((value) => !Number.isNaN(value));
        // No requests at all in the window spend no budget.
        if (values.length === 0)
          return { open: true, measured: true, burnRate: 0, reason: `no errors or requests over ${config.window}` };
        const reading = judgeBurnRate(Math.max(...values), config.objective, config.maxBurnRate, config.window);
        log.info({ burnRate: reading.burnRate, open: reading.open }, 'error budget checked');
        return reading;
      } catch (err) {
        if (err instanceof QueryRejected || (err instanceof ProviderError && !err.retryable)) {
          throw ApplicationFailure.nonRetryable(
            `errorBudget.errorRatioQuery cannot be used: ${err.message}`,
            FailureType.ErrorBudgetInvalid,
          );
        }
        return {
          open: false,
          measured: false,
          reason: `cannot read the error budget from Prometheus: ${describeError(err)}`,
        };
      }
    },
  };
}

/** "1h" stays "1h"; "1.5h" becomes "5400s", which PromQL accepts. */
function promDuration(duration: string): string {
  return /^\d+(ms|s|m|h|d)$/.test(duration) ? duration : `${Math.round(toMillis(duration) / 1000)}s`;
}
