import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { IdentityRefused } from './claims';

/** Seconds of clock difference tolerated between the issuer and this host. */
const CLOCK_TOLERANCE_S = 30;

/**
 * Checks tokens the organisation's OpenID Connect issuer signed, against the keys it publishes
 * (its JWKS, found through discovery and cached; a new signing key is fetched when a token names it).
 */
export class OidcKeys {
  private jwks?: Promise<ReturnType<typeof createRemoteJWKSet>>;

  constructor(
    readonly issuer: string,
    private readonly audiences: string[],
  ) {}

  /** The token's claims, or IdentityRefused saying why it does not count (expired, another audience, another issuer). */
  async verify(token: string): Promise<JWTPayload> {
    const keys = await this.keys();
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.issuer,
        audience: this.audiences,
        clockTolerance: CLOCK_TOLERANCE_S,
      });
      return payload;
    } catch (err) {
      throw new IdentityRefused(describeJoseError(err, this.issuer));
    }
  }

  private keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    this.jwks ??= discoverJwksUri(this.issuer).then((uri) => createRemoteJWKSet(new URL(uri)));
    // A failed discovery is tried again next time, not remembered.
    this.jwks.catch(() => (this.jwks = undefined));
    return this.jwks;
  }
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}; is TOLLGATE_OIDC_ISSUER right?`);
  const document = (await response.json()) as { jwks_uri?: unknown };
  if (typeof document.jwks_uri !== 'string') throw new Error(`${url} names no jwks_uri`);
  return document.jwks_uri;
}

/** jose's error codes, in words a person can act on. */
export function describeJoseError(err: unknown, issuer: string): string {
  const { code, claim, message } = err as { code?: string; claim?: string; message?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the token has expired; run `tollgate login` again (or get a fresh token)';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'iss') return `the token was not issued by ${issuer}`;
      if (claim === 'aud') return 'the token was issued for another audience than Tollgate';
      return `the token's ${claim ?? 'claims'} do not hold: ${message ?? ''}`;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return `the token is not signed by ${issuer}`;
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'the token is not a valid JWT';
    default:
      return `the token could not be verified: ${message ?? String(err)}`;
  }
}
