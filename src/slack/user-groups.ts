import type { WebClient } from '@slack/web-api';

/** How long group memberships are trusted before Slack is asked again. */
export const GROUP_CACHE_MS = 60_000;

/**
 * The Slack user groups a person belongs to, by handle (`release-managers`), for approvals from
 * `group:<handle>`. Resolved through Slack's API, never from anything the person typed.
 */
export class UserGroupDirectory {
  private cache?: { at: number; members: Map<string, string[]> };

  constructor(
    private readonly client: WebClient,
    private readonly now: () => number = Date.now,
  ) {}

  async groupsOf(userId: string): Promise<string[]> {
    if (!this.cache || this.now() - this.cache.at > GROUP_CACHE_MS) {
      const response = await this.client.usergroups.list({ include_users: true });
      const members = new Map<string, string[]>();
      for (const group of response.usergroups ?? []) {
        if (!group.handle) continue;
        for (const user of group.users ?? []) members.set(user, [...(members.get(user) ?? []), group.handle]);
      }
      this.cache = { at: this.now(), members };
    }
    return this.cache.members.get(userId) ?? [];
  }
}
