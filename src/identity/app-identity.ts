import type { Actor } from '../domain/spec';
import type { DecisionKind } from '../domain/decision';
import { signAssertion } from './assertion';
import { actorFromClaims } from './claims';
import { OidcKeys } from './oidc-keys';
import type { IdentitySettings } from './settings';

/**
 * How Tollgate's app (Slack, the HTTP API) proves to the worker who made a decision: it signs an
 * assertion for that one decision with TOLLGATE_ASSERTION_KEY; without the key, the HTTP API
 * forwards the person's own token, which the worker checks again. In local mode there is no proof.
 */
export class AppIdentity {
  private readonly oidcKeys?: OidcKeys;

  constructor(readonly settings: IdentitySettings) {
    if (settings.mode === 'oidc' && settings.issuer) this.oidcKeys = new OidcKeys(settings.issuer, settings.audiences);
  }

  /** Can people's bearer tokens be checked here (an issuer is configured)? */
  get acceptsBearerTokens(): boolean {
    return this.oidcKeys !== undefined;
  }

  /** The person an OIDC bearer token names, verified against the issuer's keys; IdentityRefused otherwise. */
  async person(bearerToken: string): Promise<Actor> {
    if (!this.oidcKeys || this.settings.mode !== 'oidc')
      throw new Error('no OpenID Connect issuer is configured (TOLLGATE_OIDC_ISSUER)');
    return actorFromClaims(await this.oidcKeys.verify(bearerToken), this.settings, 'api');
  }

  /** The proof that goes with a decision, or undefined in local mode (the worker then decides whether trust is enough). */
  async proofFor(
    actor: Actor,
    kind: DecisionKind,
    target: string,
    presentedToken?: string,
  ): Promise<string | undefined> {
    if (this.settings.mode === 'none') return undefined;
    if (this.settings.assertionKey) return signAssertion(this.settings.assertionKey, actor, { kind, target });
    return presentedToken;
  }
}
