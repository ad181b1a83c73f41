import type { WebClient } from '@slack/web-api';
import { TollgateError } from '../domain/errors';
import type { Actor } from '../domain/spec';
import type { UserGroupDirectory } from './user-groups';

/**
 * The person behind a Slack user id, in the canonical form the other channels share: their email
 * as Slack verified it (users.info, scope users:read.email), the Slack id kept as an alias so
 * approver lists naming it still match, and their Slack user groups.
 */
export class SlackPeople {
  constructor(
    private readonly client: WebClient,
    private readonly groups: UserGroupDirectory,
    /** Without an email Tollgate cannot tell the person apart across channels; in local mode the Slack id will do. */
    private readonly emailRequired: boolean,
  ) {}

  async actorOf(user: { id: string; name?: string; username?: string }): Promise<Actor> {
    const [email, groups] = await Promise.all([this.emailOf(user.id), this.groups.groupsOf(user.id)]);
    return {
      id: email ?? user.id,
      name: user.username ?? user.name,
      groups,
      via: 'slack',
      ...(email ? { aliases: [user.id] } : {}),
    };
  }

  private async emailOf(userId: string): Promise<string | undefined> {
    let email: string | undefined;
    let problem: string | undefined;
    try {
      const response = await this.client.users.info({ user: userId });
      email = response.user?.profile?.email?.toLowerCase();
      if (!email) problem = 'Slack gave no email: the app needs the users:read.email scope';
    } catch (err) {
      problem = `users.info failed: ${(err as Error).message}`;
    }
    if (problem && this.emailRequired)
      throw new TollgateError(
        'IDENTITY_UNKNOWN',
        `Tollgate cannot tell who you are across channels (${problem}); nothing was changed. Tell the platform team.`,
      );
    return email;
  }
}
