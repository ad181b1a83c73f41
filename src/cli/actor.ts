import os from 'node:os';
import type { Actor } from '../domain/spec';

/**
 * Who runs a CLI command: --as, else TOLLGATE_USER, else the login name. The CLI is for people
 * with access to Temporal, who can act on any workflow anyway; in Slack, the identity comes from
 * Slack's signed request and cannot be chosen.
 */
export function cliActor(options: { as?: string; group?: string[] }): Actor {
  const id = options.as ?? process.env.TOLLGATE_USER ?? os.userInfo().username;
  return { id, groups: options.group?.length ? options.group : undefined, via: 'cli' };
}
