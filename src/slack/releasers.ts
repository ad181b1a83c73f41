import { TollgateError } from '../domain/errors';

/**
 * Who may start, roll back and freeze releases, per environment: TOLLGATE_RELEASERS is
 * `environment=entry,entry;environment=*`, entries being Slack user ids or `group:<handle>`.
 * Environments not named are open to everyone; unset means everyone everywhere.
 */
export class Releasers {
  private constructor(private readonly rules: Map<string, string[]>) {}

  static parse(value: string | undefined): Releasers {
    const rules = new Map<string, string[]>();
    for (const rule of (value ?? '')
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const [environment, entries] = rule.split('=');
      if (!environment || entries === undefined) {
        throw new TollgateError(
          'CONFIG_INVALID',
          `TOLLGATE_RELEASERS: "${rule}" should read environment=U012AB,group:release-managers (or environment=*)`,
        );
      }
      rules.set(
        environment.trim(),
        entries
          .split(',')
          .map((entry) => entry.trim())
          .filter(Boolean),
      );
    }
    return new Releasers(rules);
  }

  /** Why this person may not act on this environment, or undefined when they may. */
  refusal(environment: string, user: { id: string; groups: string[]; aliases?: string[] }): string | undefined {
    const allowed = this.rules.get(environment);
    if (!allowed || allowed.includes('*')) return undefined;
    const groups = new Set(user.groups);
    // Entries name people by email or by Slack user id (kept as an alias of the email).
    const ids = new Set([user.id, ...(user.aliases ?? [])]);
    if (allowed.some((entry) => (entry.startsWith('group:') ? groups.has(entry.slice(6)) : ids.has(entry))))
      return undefined;
    return `you may not release to ${environment}; ask one of ${allowed.map((entry) => (entry.startsWith('group:') ? `@${entry.slice(6)}` : `<@${entry}>`)).join(', ')}`;
  }
}
