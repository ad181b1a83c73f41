import type { ReleaseFacts } from './release-facts';

/** Placeholders a query may use, and where their values come from. */
export const QUERY_FACTS = [
  'service',
  'environment',
  'version',
  'canaryVersion',
  'stableVersion',
  'releaseId',
] as const;
export type QueryFact = (typeof QUERY_FACTS)[number];

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

export class MissingFact extends Error {
  constructor(
    readonly fact: string,
    message: string,
  ) {
    super(message);
    this.name = 'MissingFact';
  }
}

/** The placeholders in a query that are not known facts (or extra names the caller allows). */
export function unknownPlaceholders(template: string, extra: readonly string[] = []): string[] {
  const known = new Set<string>([...QUERY_FACTS, ...extra]);
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1]).filter((name) => !known.has(name));
}

/**
 * Puts the release's facts into a PromQL query: {{service}}, {{version}}, {{canaryVersion}},
 * {{stableVersion}}... Values are escaped for a PromQL string, so a fact can never end the string
 * it sits in. Throws MissingFact when the query needs a fact this release does not have (the
 * stable version of a lane's first release).
 */
export function renderQuery(template: string, facts: ReleaseFacts, extra: Record<string, string> = {}): string {
  const values: Record<string, string | undefined> = {
    service: facts.service,
    environment: facts.environment,
    version: facts.version,
    canaryVersion: facts.version,
    stableVersion: facts.stableVersion,
    releaseId: facts.releaseId,
    ...extra,
  };
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw new MissingFact(
        name,
        name === 'stableVersion'
          ? 'the query uses {{stableVersion}}, but this is the first release of its lane: there is no stable version yet'
          : `the query uses {{${name}}}, which is not a fact of a release (known: ${[...QUERY_FACTS, ...Object.keys(extra)].join(', ')})`,
      );
    }
    return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  });
}
