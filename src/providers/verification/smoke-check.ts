import { toMillis } from '../../domain/duration';
import type { ReleaseFacts } from '../../domain/release-facts';
import type { SmokeCheck } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { runExecStep } from '../exec/exec-step';
import { describeError } from '../metrics/prometheus';
import { resolveSecret } from '../secrets';

/** Longest body or output excerpt kept as evidence: enough to see the error, small for history. */
const EVIDENCE_LIMIT = 200;

export interface SmokeCheckOutcome {
  passed: boolean;
  message: string;
}

/**
 * Runs one smoke check once. A check that answers wrongly is a failed outcome, not an error: the
 * caller decides whether to try again. Only a check that can never work (a missing secret, a
 * placeholder that is not a fact) throws.
 */
export async function runSmokeCheckOnce(ctx: ProviderContext, check: SmokeCheck): Promise<SmokeCheckOutcome> {
  if (check.http) return httpCheck(ctx, check.http);
  if (check.exec) return execCheck(ctx, check.exec);
  throw new ProviderError(`smoke check "${check.name}" has neither http nor exec`, false);
}

async function httpCheck(ctx: ProviderContext, http: NonNullable<SmokeCheck['http']>): Promise<SmokeCheckOutcome> {
  const url = renderUrl(http.url, ctx.facts);
  const headers = Object.fromEntries(
    Object.entries(http.headers ?? {}).map(([name, value]) => [name, resolveSecret(value, `headers.${name}`)]),
  );
  const what = `${http.method} ${url}`;
  try {
    const response = await fetch(url, {
      method: http.method,
      headers,
      body: http.body,
      signal: AbortSignal.any([AbortSignal.timeout(toMillis(http.timeout)), ctx.signal]),
    });
    const body = await response.text();
    const excerpt = JSON.stringify(body.slice(0, EVIDENCE_LIMIT));
    const { expect } = http;
    if (!expect.status.includes(response.status))
      return {
        passed: false,
        message: `${what}: status ${response.status}, expected ${expect.status.join(' or ')} (body ${excerpt})`,
      };
    if (expect.bodyContains && !body.includes(expect.bodyContains))
      return {
        passed: false,
        message: `${what}: body ${excerpt} does not contain ${JSON.stringify(expect.bodyContains)}`,
      };
    if (expect.bodyMatches && !new RegExp(expect.bodyMatches).test(body))
      return { passed: false, message: `${what}: body ${excerpt} does not match /${expect.bodyMatches}/` };
    return { passed: true, message: `${what}: ${response.status} as expected` };
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    return { passed: false, message: `${what}: no answer (${describeError(err)})` };
  }
}

async function execCheck(ctx: ProviderContext, exec: NonNullable<SmokeCheck['exec']>): Promise<SmokeCheckOutcome> {
  const result = await runExecStep(ctx, exec, 'verification', exec.command);
  const output = (result.stdoutTail || result.stderrTail).trim().split('\n').slice(-3).join(' ').slice(-EVIDENCE_LIMIT);
  if (result.timedOut) return { passed: false, message: `"${exec.command}" timed out after ${exec.timeout}` };
  return {
    passed: result.exitCode === 0,
    message: `"${exec.command}" exited ${result.exitCode}${output ? `: ${output}` : ''}`,
  };
}

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** Fills the release's facts into a check's URL, escaped for a URL. */
export function renderUrl(template: string, facts: ReleaseFacts): string {
  const values: Record<string, string | undefined> = {
    service: facts.service,
    environment: facts.environment,
    version: facts.version,
    releaseId: facts.releaseId,
  };
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    if (value === undefined)
      throw new ProviderError(
        `the smoke check's URL uses {{${name}}}; it may use {{service}}, {{environment}}, {{version}}, {{releaseId}}`,
        false,
      );
    return encodeURIComponent(value);
  });
}
