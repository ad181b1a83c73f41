import os from 'node:os';
import { TollgateError } from '../domain/errors';
import type { Actor } from '../domain/spec';
import type { IdentitySettings } from '../identity/settings';

/** Who runs a CLI command, and the proof the worker checks (none in local mode). */
export interface CliIdentity {
  actor: Actor;
  proof?: string;
}

export interface ClaimedIdentityOptions {
  as?: string;
  group?: string[];
}

/**
 * Who runs a CLI command. With an identity provider: the person `tollgate login` proved, with the
 * ID token as proof. In local mode only (TOLLGATE_AUTH=none): --as, else TOLLGATE_USER, else the
 * login name, with the groups given by --group, all taken on trust and recorded so.
 */
export async function cliIdentity(settings: IdentitySettings, options: ClaimedIdentityOptions): Promise<CliIdentity> {
  if (settings.mode === 'none') {
    const id = options.as ?? process.env.TOLLGATE_USER ?? os.userInfo().username;
    return {
      actor: { id, groups: options.group?.length ? options.group : undefined, via: 'cli', trust: 'none' },
    };
  }
  if (options.as || options.group?.length)
    throw new TollgateError(
      'USAGE',
      '--as and --group exist only in local mode (TOLLGATE_AUTH=none); here who you are and your groups come from `tollgate login`',
    );
  const { currentIdToken } = require('../identity/device-login') as typeof import('../identity/device-login');
  const { actorFromClaims } = require('../identity/claims') as typeof import('../identity/claims');
  const { decodeJwt } = require('jose') as typeof import('jose');
  const idToken = await currentIdToken(settings);
  // Read here only to show who acts: the worker verifies the token itself, and only then is the
  // identity recorded as verified.
  const { trust: _unchecked, ...actor } = actorFromClaims(decodeJwt(idToken), settings, 'cli');
  return { actor, proof: idToken };
}
