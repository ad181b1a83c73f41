import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { TollgateError } from '../domain/errors';
import { readTokens, writeTokens, type CachedTokens } from './token-cache';
import type { OidcSettings } from './settings';

/** What the CLI asks the issuer for: who you are (email), your groups, and a refresh token. */
const SCOPE = 'openid email profile groups offline_access';
/** An ID token this close to expiring is renewed before it is sent. */
const RENEW_BEFORE_S = 60;

/** The CLI's settings, or a TollgateError saying which variable to set. */
export function cliOidc(settings: OidcSettings): { issuer: string; clientId: string } {
  if (!settings.issuer || !settings.clientId)
    throw new TollgateError(
      'CONFIG_INVALID',
      'set TOLLGATE_OIDC_ISSUER and TOLLGATE_OIDC_CLIENT_ID to log in (docs/security.md), or TOLLGATE_AUTH=none for local use',
    );
  return { issuer: settings.issuer, clientId: settings.clientId };
}

async function discover(issuer: string, clientId: string): Promise<oidc.Configuration> {
  const url = new URL(issuer);
  // Plain HTTP only to an issuer on this host (a local Keycloak or Dex, the tests' issuer).
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  try {
    return await oidc.discovery(url, clientId, undefined, oidc.None(), {
      execute: loopback && url.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
    });
  } catch (err) {
    throw new TollgateError(
      'OIDC_UNREACHABLE',
      `cannot reach the identity provider at ${issuer}: ${(err as Error).message}`,
    );
  }
}

/**
 * `tollgate login`: the device authorization grant, so it works over SSH. `show` tells the person
 * where to go and which code to enter; the tokens are kept for the next commands.
 */
export async function deviceLogin(
  settings: OidcSettings,
  show: (prompt: { verificationUri: string; verificationUriComplete?: string; userCode: string }) => void,
): Promise<CachedTokens> {
  const { issuer, clientId } = cliOidc(settings);
  const config = await discover(issuer, clientId);
  const started = await oidc.initiateDeviceAuthorization(config, { scope: SCOPE });
  show({
    verificationUri: started.verification_uri,
    verificationUriComplete: started.verification_uri_complete,
    userCode: started.user_code,
  });
  let response;
  try {
    response = await oidc.pollDeviceAuthorizationGrant(config, started);
  } catch (err) {
    throw new TollgateError('LOGIN_FAILED', `login did not complete: ${(err as Error).message}`);
  }
  return keep(issuer, clientId, response.id_token, response.refresh_token);
}

/** The ID token to prove who you are, renewed with the refresh token when it is about to expire. */
export async function currentIdToken(settings: OidcSettings): Promise<string> {
  const { issuer, clientId } = cliOidc(settings);
  const cached = readTokens(issuer, clientId);
  if (!cached) throw new TollgateError('NOT_LOGGED_IN', `you are not logged in to ${issuer}: run \`tollgate login\``);
  if (cached.expiresAt - RENEW_BEFORE_S > Date.now() / 1000) return cached.idToken;
  if (!cached.refreshToken)
    throw new TollgateError('LOGIN_EXPIRED', 'your login has expired: run `tollgate login` again');
  const config = await discover(issuer, clientId);
  let response;
  try {
    response = await oidc.refreshTokenGrant(config, cached.refreshToken, { scope: SCOPE });
  } catch (err) {
    throw new TollgateError(
      'LOGIN_EXPIRED',
      `your login could not be renewed (${(err as Error).message}): run \`tollgate login\` again`,
    );
  }
  return keep(issuer, clientId, response.id_token, response.refresh_token ?? cached.refreshToken).idToken;
}

function keep(issuer: string, clientId: string, idToken: string | undefined, refreshToken?: string): CachedTokens {
  if (!idToken) throw new TollgateError('LOGIN_FAILED', `${issuer} sent no ID token; is the openid scope allowed?`);
  const expiresAt = decodeJwt(idToken).exp ?? Math.floor(Date.now() / 1000) + 300;
  const tokens = { issuer, clientId, idToken, refreshToken, expiresAt };
  writeTokens(tokens);
  return tokens;
}
