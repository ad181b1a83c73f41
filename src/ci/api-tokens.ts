import crypto from 'node:crypto';
import { TollgateError } from '../domain/errors';

/** A CI token: who it is (for the audit log) and which lanes it may release to. */
export interface ApiToken {
  name: string;
  digest: Buffer;
  /** `service/environment` pairs; `*` matches any service or environment. */
  scopes: { service: string; environment: string }[];
}

const SCOPE = /^([a-z0-9-]+|\*)\/([a-z0-9-]+|\*)$/;

/**
 * Parses TOLLGATE_API_TOKENS: entries separated by spaces or `;`, each
 * `name:token:service/environment[,service/environment...]`, e.g.
 * `checkout-ci:3b9f…:checkout/staging,checkout/production deploy-bot:77aa…:*\/staging`.
 * Only a digest of each token is kept in memory.
 */
export function parseApiTokens(value: string | undefined): ApiToken[] {
  return (value ?? '')
    .split(/[\s;]+/)
    .filter(Boolean)
    .map((entry, index) => {
      const [name, token, scopes, ...rest] = entry.split(':');
      const usage = `TOLLGATE_API_TOKENS entry ${index + 1}: write name:token:service/environment[,service/environment]`;
      if (!name || !token || !scopes || rest.length > 0) throw new TollgateError('CONFIG_INVALID', usage);
      if (token.length < 16)
        throw new TollgateError(
          'CONFIG_INVALID',
          `TOLLGATE_API_TOKENS token of "${name}" is too short; use at least 16 random characters (openssl rand -hex 24)`,
        );
      const parsed = scopes.split(',').map((scope) => {
        const match = SCOPE.exec(scope);
        if (!match) throw new TollgateError('CONFIG_INVALID', `${usage} ("${scope}" is not service/environment)`);
        return { service: match[1], environment: match[2] };
      });
      return { name, digest: digest(token), scopes: parsed };
    });
}

function digest(token: string): Buffer {
  return crypto.createHash('sha256').update(token).digest();
}

/** The token a request presents, compared in constant time. */
export function findToken(tokens: ApiToken[], presented: string): ApiToken | undefined {
  const presentedDigest = digest(presented);
  return tokens.find((token) => crypto.timingSafeEqual(token.digest, presentedDigest));
}

export function allows(token: ApiToken, service: string, environment: string): boolean {
  return token.scopes.some(
    (scope) =>
      (scope.service === '*' || scope.service === service) &&
      (scope.environment === '*' || scope.environment === environment),
  );
}
