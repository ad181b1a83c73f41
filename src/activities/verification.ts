import { Context, sleep } from '@temporalio/activity';
import { toMillis } from '../domain/duration';
import type { ReleaseFacts } from '../domain/release-facts';
import type { SmokeCheck } from '../domain/spec';
import type { CheckResult } from '../domain/verification';
import { runSmokeCheckOnce } from '../providers/verification/smoke-check';
import type { ActivityDeps } from './deps';
import { callProvider } from './provider-call';

export interface SmokeCheckRequest {
  facts: ReleaseFacts;
  check: SmokeCheck;
  /** Tries before the check fails (verification.attempts). */
  attempts: number;
  interval: string;
  stepId: string;
}

export function createVerificationActivities(deps: ActivityDeps) {
  return {
    /**
     * Runs one smoke check until it passes or has used its attempts, and says what it saw. Changes
     * nothing, so running it twice is harmless; the attempts made so far travel in heartbeat
     * details, so a check on a worker that dies does not start counting again.
     */
    async runSmokeCheck(request: SmokeCheckRequest): Promise<CheckResult> {
      const { check } = request;
      const kind: CheckResult['kind'] = check.http ? 'http' : 'exec';
      let attempts = Number(Context.current().info.heartbeatDetails ?? 0);
      for (;;) {
        if (attempts > 0) await sleep(toMillis(request.interval));
        attempts += 1;
        const outcome = await callProvider(
          deps,
          request.facts,
          request.stepId,
          (ctx) => runSmokeCheckOnce(ctx, check),
          {
            heartbeatDetails: () => attempts - 1,
          },
        );
        const result = { name: check.name, kind, passed: outcome.passed, attempts, message: outcome.message };
        if (outcome.passed || attempts >= request.attempts) return { ...result, at: new Date().toISOString() };
        Context.current().heartbeat(attempts);
      }
    },
  };
}
