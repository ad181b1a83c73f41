import { decodeJwt } from 'jose';
import type { Actor } from '../domain/spec';
import { ASSERTION_ISSUER, verifyAssertion } from './assertion';
import { actorFromClaims, IdentityRefused } from './claims';
import type { DecisionCheck, DecisionVerdict } from '../domain/decision';
import { OidcKeys } from './oidc-keys';
import type { IdentitySettings } from './settings';

/**
 * The worker's check of who sent a decision, before a workflow accepts it. A proof is either an
 * ID token from the organisation's issuer (the CLI after `tollgate login`) or an assertion that
 * Tollgate's app signed for this very decision (Slack, the HTTP API). Without one, a decision is
 * accepted only in local mode, on trust, recorded as such, and never for a production environment.
 */
export class DecisionVerifier {
  private readonly oidcKeys?: OidcKeys;

  constructor(readonly settings: IdentitySettings) {
    if (settings.mode === 'oidc' && settings.issuer) this.oidcKeys = new OidcKeys(settings.issuer, settings.audiences);
  }

  async verify(check: DecisionCheck): Promise<DecisionVerdict> {
    try {
      const actor = check.proof ? await this.proven(check, check.proof) : this.onTrust(check);
      return { accepted: true, actor };
    } catch (err) {
      if (err instanceof IdentityRefused) return { accepted: false, reason: err.message };
      throw err;
    }
  }

  private async proven(check: DecisionCheck, proof: string): Promise<Actor> {
    const { settings } = this;
    if (settings.mode === 'none') return this.onTrust(check);
    let issuer: unknown;
    try {
      issuer = decodeJwt(proof).iss;
    } catch {
      throw new IdentityRefused('the proof is not a JWT');
    }
    if (issuer === ASSERTION_ISSUER) {
      if (!settings.assertionKey)
        throw new IdentityRefused(
          "the worker cannot check Tollgate's app assertions: set TOLLGATE_ASSERTION_KEY on the worker, the same as the app's",
        );
      const actor = await verifyAssertion(settings.assertionKey, proof, { kind: check.kind, target: check.target });
      return { ...actor, trust: 'verified' };
    }
    if (!this.oidcKeys)
      throw new IdentityRefused('the worker has no OpenID Connect issuer to check ID tokens: set TOLLGATE_OIDC_ISSUER');
    const claims = await this.oidcKeys.verify(proof);
    return actorFromClaims(claims, settings, check.claimed.via === 'api' ? 'api' : 'cli');
  }

  private onTrust(check: DecisionCheck): Actor {
    if (this.settings.mode !== 'none')
      throw new IdentityRefused(
        `no proof of who sent this ${check.kind}: decisions reach a release only through Tollgate's CLI after \`tollgate login\`, Slack, or the HTTP API with an OIDC token; ${check.claimed.id} was not taken on trust`,
      );
    if (check.production)
      throw new IdentityRefused(
        `local mode (TOLLGATE_AUTH=none) takes identities on trust, and ${check.environment} is marked production in the spec: decisions on it need a verified identity (docs/security.md)`,
      );
    return { ...check.claimed, trust: 'none' };
  }
}
