import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { SpecError, type SpecProblem } from './errors';
import { ReleaseSpec, type ReleaseSpecInput } from './spec';
import { findLiteralSecrets } from './secrets';
import { conditionProblems } from './analysis-conditions';

/** Values given on the command line or by Slack that fill in or override the file. */
export type SpecOverrides = Partial<Pick<ReleaseSpecInput, 'version' | 'commit'>>;

/**
 * Parses and validates a release spec. Throws SpecError listing every problem as `path: message`,
 * so a bad spec is refused before anything starts.
 */
export function parseReleaseSpec(text: string, origin: string, overrides: SpecOverrides = {}): ReleaseSpec {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    // Only the first: later YAML errors are usually echoes of it.
    const [error] = document.errors;
    throw new SpecError(origin, [
      {
        path: error.linePos ? `line ${error.linePos[0].line}` : '',
        message: `${error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')} (this is YAML syntax; check indentation and quotes)`,
      },
    ]);
  }
  const raw: unknown = document.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpecError(origin, [
      { path: '', message: 'the file must be a YAML mapping with service, environment, deploy, traffic and strategy' },
    ]);
  }
  return validateReleaseSpec({ ...raw, ...withoutUndefined(overrides) }, origin);
}

/** Validates an already-parsed spec (from JSON, an HTTP request, or a Slack catalogue entry). */
export function validateReleaseSpec(raw: unknown, origin: string): ReleaseSpec {
  const problems: SpecProblem[] = findLiteralSecrets(raw);
  const result = ReleaseSpec.safeParse(raw);
  if (!result.success) problems.push(...result.error.issues.map(describeIssue));
  else problems.push(...conditionProblems(result.data));
  if (problems.length > 0 || !result.success) throw new SpecError(origin, problems);
  return result.data;
}

function describeIssue(issue: z.core.$ZodIssue): SpecProblem {
  const path = issue.path.map(String).join('.');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}; check the spelling against docs/spec.md`;
  } else if (issue.code === 'invalid_type' && /received undefined$/.test(message)) {
    message = 'required';
  }
  if (message === 'required' && path === 'version') message = 'required (set it in the spec or pass --version)';
  return { path, message };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
