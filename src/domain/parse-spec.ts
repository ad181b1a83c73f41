import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { SpecError, type SpecProblem } from './errors';
import { ReleaseSpec, type ReleaseSpecInput } from './spec';
import { findLiteralSecrets } from './secrets';
import { conditionProblems } from './analysis-conditions';
import { closestName, fieldsAt } from './field-suggestions';

/**
 * The largest spec accepted, in bytes. A real spec is a few KiB; the limit bounds what a hostile or
 * mistaken file (a generated blob, a log pasted in) costs every check that reads it. docs/spec.md.
 */
export const MAX_SPEC_BYTES = 256 * 1024;

/**
 * How many aliases (`*name`) a spec may use. yaml's own guard against an alias bomb (a few lines
 * that expand to millions of nodes); real specs use a handful, if any.
 */
const MAX_ALIAS_COUNT = 100;

/** The problem of a spec over MAX_SPEC_BYTES, for the file reader that checks before it reads too. */
export function specTooLarge(bytes: number): SpecProblem {
  return {
    path: '',
    message: `the file is ${Math.ceil(bytes / 1024)} KiB; specs are limited to ${MAX_SPEC_BYTES / 1024} KiB (docs/spec.md). Move large content (scripts, queries) into files the spec names`,
  };
}

/** Values given on the command line or by Slack that fill in or override the file. */
export type SpecOverrides = Partial<Pick<ReleaseSpecInput, 'version' | 'commit'>>;

/**
 * Parses and validates a release spec. Throws SpecError listing every problem as `path: message`,
 * so a bad spec is refused before anything starts.
 */
export function parseReleaseSpec(text: string, origin: string, overrides: SpecOverrides = {}): ReleaseSpec {
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_SPEC_BYTES) throw new SpecError(origin, [specTooLarge(bytes)]);
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
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws (a ReferenceError) when the aliases would expand past the limit: the file's fault.
    throw new SpecError(origin, [
      {
        path: '',
        message: `${(err as Error).message}: the YAML's aliases (*name) expand to too much; a spec may use at most ${MAX_ALIAS_COUNT}, write the values out instead`,
      },
    ]);
  }
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
  if (!result.success) {
    problems.push(...result.error.issues.flatMap(describeIssue));
    // The schema checks references only once the whole shape is right; say every problem in one pass.
    for (const problem of undefinedTemplates(raw))
      if (!problems.some((known) => known.path === problem.path)) problems.push(problem);
  } else problems.push(...conditionProblems(result.data));
  if (problems.length > 0 || !result.success) throw new SpecError(origin, problems);
  return result.data;
}

function describeIssue(issue: z.core.$ZodIssue): SpecProblem[] {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    // One problem per unknown field, each with the field it most likely meant.
    const known = fieldsAt(ReleaseSpec, issue.path);
    return issue.keys.map((key) => {
      const meant = closestName(key, known);
      return {
        path: path ? `${path}.${key}` : key,
        message: meant
          ? `unknown field "${key}"; did you mean "${meant}"?`
          : `unknown field "${key}"; known here: ${known.join(', ')} (docs/spec.md)`,
      };
    });
  }
  let message = issue.message;
  if (issue.code === 'invalid_type' && /received undefined$/.test(message)) message = 'required';
  if (message === 'required' && path === 'version') message = 'required (set it in the spec or pass --version)';
  return [{ path, message }];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Analysis templates that steps name but `analysis:` does not define, read from the raw spec so
 * they are reported beside shape errors elsewhere (the schema's own check needs a valid shape).
 */
function undefinedTemplates(raw: unknown): SpecProblem[] {
  if (!isRecord(raw) || !isRecord(raw.strategy)) return [];
  const defined = isRecord(raw.analysis) ? Object.keys(raw.analysis) : [];
  const references: { path: string; templates: unknown }[] = [];
  const { canary, blueGreen, rolling } = raw.strategy;
  if (isRecord(canary) && Array.isArray(canary.steps))
    canary.steps.forEach((step: unknown, index) => {
      if (isRecord(step) && isRecord(step.analysis))
        references.push({ path: `strategy.canary.steps.${index}.analysis`, templates: step.analysis.templates });
    });
  if (isRecord(blueGreen))
    for (const phase of ['prePromotionAnalysis', 'postPromotionAnalysis'])
      if (isRecord(blueGreen[phase]))
        references.push({
          path: `strategy.blueGreen.${phase}`,
          templates: (blueGreen[phase] as { templates?: unknown }).templates,
        });
  if (isRecord(rolling) && isRecord(rolling.analysis))
    references.push({ path: 'strategy.rolling.analysis', templates: rolling.analysis.templates });
  return references.flatMap(({ path, templates }) =>
    (Array.isArray(templates) ? templates : []).flatMap((name: unknown, index) =>
      typeof name === 'string' && !defined.includes(name)
        ? [
            {
              path: `${path}.templates.${index}`,
              message: `analysis template "${name}" is not defined; add it under analysis: (defined: ${defined.join(', ') || 'none'})`,
            },
          ]
        : [],
    ),
  );
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
