import type http from 'node:http';
import { z } from 'zod';
import type { ReleaseClient } from '../client/release-client';
import { ApprovalRefused, InvalidActor, NotFound, RollbackRefused, TollgateError } from '../domain/errors';
import { findToken, type ApiToken } from '../ci/api-tokens';
import { IdentityRefused } from '../identity/claims';
import type { AppIdentity } from '../identity/app-identity';
import type { Logger } from '../logger';
import { TemporalUnreachable } from '../temporal/connection';

/** What a person's decision may say besides who they are (their token says that). */
const DecisionBody = z
  .strictObject({ comment: z.string().max(2000).optional(), reason: z.string().max(2000).optional() })
  .default({});

const DECISIONS = ['approve', 'reject', 'rollback', 'pause', 'resume', 'abort', 'promote'] as const;
type Decision = (typeof DECISIONS)[number];
const PATH = new RegExp(`^/api/releases/([^/]+)/(${DECISIONS.join('|')})$`);

export interface DecisionApiOptions {
  releases: () => Promise<ReleaseClient>;
  identity: AppIdentity;
  /** CI tokens: recognised here only to be told that CI starts releases and never decides. */
  ciTokens: ApiToken[];
  log: Logger;
}

/**
 * People's decisions over HTTP: `POST /api/releases/<id>/<decision>` with an OpenID Connect
 * bearer token from the organisation's issuer (verified against its JWKS). The token says who
 * decides; the body only adds a comment or a reason. CI tokens are refused here: CI starts
 * releases, people decide about them. Answers false for paths it does not serve.
 */
export function createDecisionApi(
  options: DecisionApiOptions,
): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const match = PATH.exec(new URL(req.url ?? '/', 'http://tollgate').pathname);
    if (!match || req.method !== 'POST') return false;
    const releaseId = decodeURIComponent(match[1]);
    const decision = match[2] as Decision;
    try {
      const presented = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!presented) return send(res, 401, { error: 'send Authorization: Bearer <your OpenID Connect token>' });
      if (findToken(options.ciTokens, presented))
        return send(res, 403, {
          error: `CI tokens start releases and never ${decision}: a person decides, with their own token`,
        });
      if (!options.identity.acceptsBearerTokens)
        return send(res, 404, { error: 'people decide here only when TOLLGATE_OIDC_ISSUER is set' });
      let actor;
      try {
        actor = await options.identity.person(presented);
      } catch (err) {
        if (err instanceof IdentityRefused) return send(res, 401, { error: err.message });
        throw err;
      }
      const body = DecisionBody.safeParse(await readJson(req));
      if (!body.success)
        return send(res, 400, {
          error: 'the body may hold only comment and reason, each text of at most 2000 characters',
        });
      const proof = await options.identity.proofFor(actor, decision, releaseId, presented);
      const releases = await options.releases();
      const { comment, reason } = body.data;
      let message: string;
      switch (decision) {
        case 'approve':
          message = (await releases.approve(releaseId, { approver: actor, comment, proof })).message;
          break;
        case 'reject':
          message = (await releases.reject(releaseId, { approver: actor, reason, comment, proof })).message;
          break;
        case 'rollback':
          message = (await releases.rollback(releaseId, { actor, reason, proof })).message;
          break;
        default:
          await releases[decision](releaseId, { actor, reason, proof });
          message = `${decision} sent to ${releaseId}`;
      }
      options.log.info({ releaseId, decision, by: actor.id }, 'decision over the HTTP API');
      return send(res, 200, { releaseId, decision, by: actor.id, message });
    } catch (err) {
      if (err instanceof ApprovalRefused || err instanceof RollbackRefused || err instanceof InvalidActor)
        return send(res, 409, { error: err.message });
      if (err instanceof NotFound) return send(res, 404, { error: err.message });
      if (err instanceof TemporalUnreachable) return send(res, 503, { error: err.message });
      if (err instanceof TollgateError) return send(res, 409, { error: err.message });
      options.log.error({ err, releaseId, decision }, 'decision over the HTTP API failed');
      return send(res, 500, { error: 'internal error; the server log has the details' });
    }
  };
}

const MAX_BODY_BYTES = 16 * 1024;

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (size > MAX_BODY_BYTES) return resolve('too large');
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve('not JSON');
      }
    });
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): true {
  if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  return true;
}
