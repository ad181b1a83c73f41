import { NAME_PATTERN, VERSION_PATTERN } from '../domain/spec';

/** What a `/release ...` command asks for. */
export type ReleaseCommand =
  | { kind: 'modal' }
  | { kind: 'start'; service: string; version: string; environment?: string }
  | { kind: 'pipeline'; service: string; version: string; sha: string; committedAt?: string }
  | { kind: 'status'; service?: string }
  | { kind: 'rollback'; service: string; environment?: string }
  | { kind: 'freeze' | 'unfreeze'; service: string; environment: string; reason: string }
  | { kind: 'help'; problem?: string };

export const USAGE = [
  '`/release <service> <version> [environment]` start a release',
  '`/release` pick service, environment and version in a form',
  '`/release pipeline <service> <version> <commit> [committed-at]` a pipeline run: every environment in order',
  '`/release status [service]` where releases stand',
  '`/release rollback <service> [environment]` roll back the running release',
  '`/release freeze <service> <environment> <reason>` / `/release unfreeze <service> <environment> [reason]`',
].join('\n');

/** Parses the text after `/release`. Never throws: a mistake becomes help with the problem named. */
export function parseReleaseCommand(text: string): ReleaseCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, ...rest] = words;
  const name = (word: string | undefined, what: string) =>
    word && NAME_PATTERN.test(word)
      ? undefined
      : `"${word ?? ''}" is not a ${what} name (lower-case letters, digits, dashes)`;
  if (!first) return { kind: 'modal' };
  switch (first.toLowerCase()) {
    case 'help':
      return { kind: 'help' };
    case 'pipeline': {
      const [service, version, sha, committedAt, ...extra] = rest;
      const problem =
        name(service, 'service') ??
        (version && VERSION_PATTERN.test(version) ? undefined : `"${version ?? ''}" is not a version such as 2.4.0`) ??
        (sha && /^[0-9a-f]{7,40}$/.test(sha) ? undefined : `"${sha ?? ''}" is not a commit sha`) ??
        (extra.length ? `unexpected "${extra.join(' ')}"` : undefined);
      if (problem) return { kind: 'help', problem };
      return { kind: 'pipeline', service, version, sha, ...(committedAt ? { committedAt } : {}) };
    }
    case 'status':
      if (rest[0] && name(rest[0], 'service')) return { kind: 'help', problem: name(rest[0], 'service') };
      return { kind: 'status', service: rest[0] };
    case 'rollback': {
      const problem = name(rest[0], 'service') ?? (rest[1] ? name(rest[1], 'environment') : undefined);
      if (problem) return { kind: 'help', problem };
      return { kind: 'rollback', service: rest[0], environment: rest[1] };
    }
    case 'freeze':
    case 'unfreeze': {
      const problem = name(rest[0], 'service') ?? name(rest[1], 'environment');
      if (problem) return { kind: 'help', problem };
      const reason = rest.slice(2).join(' ');
      if (first.toLowerCase() === 'freeze' && !reason)
        return { kind: 'help', problem: 'a freeze needs a reason, shown to everyone whose release waits' };
      return {
        kind: first.toLowerCase() as 'freeze' | 'unfreeze',
        service: rest[0],
        environment: rest[1],
        reason: reason || 'freeze lifted',
      };
    }
    default: {
      const [service, version, environment, ...extra] = words;
      const problem =
        name(service, 'service') ??
        (version && VERSION_PATTERN.test(version) ? undefined : `"${version ?? ''}" is not a version such as 2.4.0`) ??
        (environment ? name(environment, 'environment') : undefined) ??
        (extra.length ? `unexpected "${extra.join(' ')}"` : undefined);
      if (problem) return { kind: 'help', problem };
      return { kind: 'start', service, version, environment };
    }
  }
}
