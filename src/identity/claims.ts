import type { JWTPayload } from 'jose';
import type { Actor } from '../domain/spec';
import type { OidcSettings } from './settings';

/** A token that proves nothing usable: the message says what is wrong with it. */
export class IdentityRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityRefused';
  }
}

/**
 * The person a verified token names, in the canonical form every channel shares: the configured
 * claim (the email by default, which must be verified), and the groups the issuer lists.
 */
export function actorFromClaims(claims: JWTPayload, settings: OidcSettings, via: Actor['via']): Actor {
  const claim = settings.identityClaim;
  const value = claims[claim];
  if (typeof value !== 'string' || value.length === 0 || value.length > 128)
    throw new IdentityRefused(
      `the token has no usable ${claim} claim; ask for the ${claim === 'email' ? 'email scope' : `${claim} claim`} at the identity provider (docs/security.md)`,
    );
  if (claim === 'email' && claims.email_verified === false)
    throw new IdentityRefused(`${value} is not a verified email at the identity provider`);
  const groups = claims[settings.groupsClaim];
  const name = typeof claims.name === 'string' ? claims.name.slice(0, 128) : undefined;
  return {
    id: claim === 'email' ? value.toLowerCase() : value,
    ...(name ? { name } : {}),
    groups: Array.isArray(groups) ? groups.filter((group): group is string => typeof group === 'string') : [],
    via,
    trust: 'verified',
    issuer: claims.iss,
    subject: claims.sub,
  };
}
