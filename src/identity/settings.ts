import type { Config } from '../config';
import { ConfigError } from '../domain/errors';

/**
 * How a Tollgate process establishes who people are (docs/security.md). `oidc`: people prove who
 * they are through the organisation's OpenID Connect provider (the CLI's ID token, the HTTP API's
 * bearer token) or through Tollgate's app (Slack), which signs an assertion. `none`: local mode,
 * for `tollgate dev` and tests: identities are taken on trust, recorded as such, and refused for
 * production environments.
 */
export type IdentitySettings =
  | { mode: 'none' }
  | {
      mode: 'oidc';
      /** The OIDC issuer whose ID tokens and bearer tokens count; unset when only the app's assertions do. */
      issuer?: string;
      /** The CLI's client id at the issuer (device flow); ID tokens are issued to it. */
      clientId?: string;
      /** Audiences accepted in bearer tokens and ID tokens (default: the client id). */
      audiences: string[];
      /** The claim that names a person: the verified email unless configured otherwise. */
      identityClaim: string;
      /** The claim listing a person's groups, for approvals from `group:NAME`. */
      groupsClaim: string;
      /** Tollgate's app key: the app signs assertions with it, the worker checks them. */
      assertionKey?: string;
    };

export type OidcSettings = Extract<IdentitySettings, { mode: 'oidc' }>;

type IdentityConfig = Pick<
  Config,
  | 'TOLLGATE_AUTH'
  | 'TOLLGATE_OIDC_ISSUER'
  | 'TOLLGATE_OIDC_CLIENT_ID'
  | 'TOLLGATE_OIDC_AUDIENCE'
  | 'TOLLGATE_IDENTITY_CLAIM'
  | 'TOLLGATE_GROUPS_CLAIM'
  | 'TOLLGATE_ASSERTION_KEY'
>;

/** The identity settings of a process, or a ConfigError saying how to set them. */
export function identitySettings(config: IdentityConfig): IdentitySettings {
  if (config.TOLLGATE_AUTH === 'none') return { mode: 'none' };
  if (!config.TOLLGATE_OIDC_ISSUER && !config.TOLLGATE_ASSERTION_KEY) {
    throw new ConfigError([
      {
        path: 'TOLLGATE_OIDC_ISSUER',
        message:
          'required to know who decides: your OpenID Connect issuer (e.g. https://login.example.com), with TOLLGATE_OIDC_CLIENT_ID; or TOLLGATE_AUTH=none for local use without an identity provider (identities on trust, never for production; docs/security.md)',
      },
    ]);
  }
  const audiences = (config.TOLLGATE_OIDC_AUDIENCE ?? config.TOLLGATE_OIDC_CLIENT_ID ?? '')
    .split(',')
    .map((audience) => audience.trim())
    .filter(Boolean);
  if (config.TOLLGATE_OIDC_ISSUER && audiences.length === 0) {
    throw new ConfigError([
      {
        path: 'TOLLGATE_OIDC_CLIENT_ID',
        message: "required with TOLLGATE_OIDC_ISSUER: the client id Tollgate's CLI is registered under at the issuer",
      },
    ]);
  }
  return {
    mode: 'oidc',
    issuer: config.TOLLGATE_OIDC_ISSUER,
    clientId: config.TOLLGATE_OIDC_CLIENT_ID,
    audiences,
    identityClaim: config.TOLLGATE_IDENTITY_CLAIM,
    groupsClaim: config.TOLLGATE_GROUPS_CLAIM,
    assertionKey: config.TOLLGATE_ASSERTION_KEY,
  };
}

/** What a process prints at start-up in local mode, so nobody mistakes it for a guarded one. */
export const LOCAL_MODE_NOTICE =
  'local mode (TOLLGATE_AUTH=none): identities are taken on trust and recorded as such; decisions on production environments are refused';
