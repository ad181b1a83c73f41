import { temporalUiLink } from '../domain/temporal-ui-link';
import type http from 'node:http';
import { z } from 'zod';
import { PipelineClient } from '../client/pipeline-client';
import type { ReleaseClient } from '../client/release-client';
import { NotFound, SpecError, TollgateError } from '../domain/errors';
import { Commit, Name, Version } from '../domain/spec';
import type { Logger } from '../logger';
import type { SpecCatalogue } from '../specs/catalogue';
import { TemporalUnreachable } from '../temporal/connection';
import { allows, findToken, type ApiToken } from './api-tokens';
import { bearerToken } from '../domain/bearer-token';
import { RateLimiter } from './rate-limiter';

/** What a CI job sends to start a pipeline run: the service, its pipeline, the commit and the version built from it. */
export const CiPipelineRequest = z.strictObject({
  service: Name,
  /** The pipeline's name in the catalogue (<service>/pipelines/<pipeline>.yaml); the service's name when absent. */
  pipeline: Name.optional(),
  version: Version.optional(),
  commit: Commit,
  triggeredBy: z.string().max(200).optional(),
});

/** What a CI job sends: which lane, which version, which commit (lead time counts from it). */
export const CiReleaseRequest = z.strictObject({
  service: Name,
  environment: Name,
  version: Version,
  commit: Commit.optional(),
  /** Who or what triggered the pipeline (a GitHub actor, a pipeline URL): recorded, not trusted. */
  triggeredBy: z.string().max(200).optional(),
});
export type CiReleaseRequest = z.infer<typeof CiReleaseRequest>;

export interface ReleaseApiOptions {
  releases: () => Promise<ReleaseClient>;
  catalogue: SpecCatalogue;
  tokens: ApiToken[];
  limiter: RateLimiter;
  /**
   * Failed authentications per client address; once spent, the address is refused (429) before
   * its token is even looked at, so tokens cannot be guessed at speed. Default: AUTH_FAILURE_RATE.
   */
  authFailures?: RateLimiter;
  log: Logger;
  uiUrl?: string;
  /** The Temporal namespace releases run in, for the UI link. */
  namespace?: string;
}

const MAX_BODY_BYTES = 64 * 1024;

/** A client may present a wrong token 10 times at once, then one every 6 seconds. */
export const AUTH_FAILURE_RATE = { perMinute: 10, burst: 10 };

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * The CI trigger: `POST /api/releases` starts a release of a catalogue spec, `GET
 * /api/releases/<id>` says where it stands. Bearer tokens are scoped to services and environments
 * and rate-limited. A duplicate request (the same version and commit) answers with the release it
 * already started; every refusal says why and starts nothing.
 *
 * Returns false for paths it does not serve, so it can sit beside other routes.
 */
export function createReleaseApi(
  options: ReleaseApiOptions,
): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean> {
  const authFailures = options.authFailures ?? new RateLimiter(AUTH_FAILURE_RATE.perMinute, AUTH_FAILURE_RATE.burst);
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://tollgate');
    const pipelines = url.pathname.startsWith('/api/pipelines');
    if (!url.pathname.startsWith('/api/releases') && !pipelines) return false;
    // Behind a proxy this is the proxy's address: then every client shares one budget, which still bounds guessing.
    const client = req.socket.remoteAddress ?? 'unknown';
    try {
      const blocked = authFailures.peek(client);
      if (!blocked.allowed) {
        res.setHeader('Retry-After', String(blocked.retryAfterSeconds));
        throw new HttpProblem(
          429,
          `too many failed authentications from ${client}; retry in ${blocked.retryAfterSeconds}s with a valid token`,
        );
      }
      let token: ApiToken;
      try {
        token = authenticate(options, req);
      } catch (err) {
        authFailures.take(client);
        throw err;
      }
      const limit = options.limiter.take(token.name);
      if (!limit.allowed) {
        res.setHeader('Retry-After', String(limit.retryAfterSeconds));
        throw new HttpProblem(429, `too many requests from ${token.name}; retry in ${limit.retryAfterSeconds}s`);
      }
      if (pipelines && req.method === 'POST' && url.pathname === '/api/pipelines') {
        await startPipeline(options, token, req, res);
      } else if (pipelines && req.method === 'GET' && url.pathname.startsWith('/api/pipelines/')) {
        await describePipeline(options, token, decodeURIComponent(url.pathname.slice('/api/pipelines/'.length)), res);
      } else if (pipelines) {
        throw new HttpProblem(405, 'use POST /api/pipelines to start a run, GET /api/pipelines/<id> to follow one');
      } else if (req.method === 'POST' && url.pathname === '/api/releases') {
        await startRelease(options, token, req, res);
      } else if (req.method === 'GET' && url.pathname.startsWith('/api/releases/')) {
        await describeRelease(options, token, decodeURIComponent(url.pathname.slice('/api/releases/'.length)), res);
      } else {
        throw new HttpProblem(405, 'use POST /api/releases to start a release, GET /api/releases/<id> to follow one');
      }
    } catch (err) {
      const problem = toProblem(err);
      if (problem.status >= 500) options.log.error({ err }, 'CI trigger failed');
      send(res, problem.status, { error: problem.message, ...problem.extra });
    }
    return true;
  };
}

function authenticate(options: ReleaseApiOptions, req: http.IncomingMessage): ApiToken {
  const presented = bearerToken(req.headers.authorization);
  if (!presented)
    throw new HttpProblem(
      401,
      'missing bearer token: send Authorization: Bearer <token> (TOLLGATE_API_TOKENS on the server)',
    );
  const token = findToken(options.tokens, presented);
  if (!token) throw new HttpProblem(401, 'unknown token');
  return token;
}

async function startRelease(
  options: ReleaseApiOptions,
  token: ApiToken,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const parsed = CiReleaseRequest.safeParse(await readJson(req));
  if (!parsed.success) {
    throw new HttpProblem(400, 'the request is not a release request', {
      problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`),
    });
  }
  const request = parsed.data;
  if (!allows(token, request.service, request.environment)) {
    throw new HttpProblem(403, `token ${token.name} may not release ${request.service} to ${request.environment}`);
  }
  const spec = options.catalogue.load(request.service, request.environment, {
    version: request.version,
    commit: request.commit,
  });
  const releases = await options.releases();
  // A freeze refuses a pipeline outright: a CI job should fail visibly, not wait for hours.
  const lane = await releases.lane(request.service, request.environment).catch((err) => {
    if (err instanceof NotFound) return undefined; // the lane's first release
    throw err;
  });
  if (lane && !lane.gate.open)
    throw new HttpProblem(423, `${request.service}/${request.environment}: ${lane.gate.reason}`);

  const { releaseId, started } = await releases.start(spec, {
    id: `ci:${token.name}`,
    name: request.triggeredBy ? `${token.name} (${request.triggeredBy})` : token.name,
    via: 'ci',
  });
  options.log.info(
    { releaseId, started, token: token.name },
    started ? 'release started by CI' : 'duplicate CI request',
  );
  send(res, started ? 201 : 200, {
    releaseId,
    started,
    message: started ? `started ${releaseId}` : `${releaseId} is already running; nothing new was started`,
    status: `/api/releases/${encodeURIComponent(releaseId)}`,
    ...(options.uiUrl ? { link: temporalUiLink(options.uiUrl, releaseId, options.namespace) } : {}),
  });
}

async function describeRelease(
  options: ReleaseApiOptions,
  token: ApiToken,
  releaseId: string,
  res: http.ServerResponse,
): Promise<void> {
  const status = await (await options.releases()).status(releaseId);
  if (!allows(token, status.service, status.environment)) {
    throw new HttpProblem(
      403,
      `token ${token.name} may not read releases of ${status.service} in ${status.environment}`,
    );
  }
  send(res, 200, {
    releaseId,
    stage: status.stage,
    weight: status.weight,
    outcome: status.outcome?.stage ?? null,
    reason: status.outcome?.reason ?? status.hold?.reason ?? null,
    done: status.outcome !== undefined,
  });
}

/**
 * `POST /api/pipelines`: a run of a catalogue pipeline for a commit. The token must allow every
 * environment of the pipeline; the same commit asked twice answers with the run it started.
 */
async function startPipeline(
  options: ReleaseApiOptions,
  token: ApiToken,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const parsed = CiPipelineRequest.safeParse(await readJson(req));
  if (!parsed.success) {
    throw new HttpProblem(400, 'the request is not a pipeline request', {
      problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`),
    });
  }
  const request = parsed.data;
  const pipeline = options.catalogue.loadPipeline(request.service, request.pipeline, {
    commit: request.commit,
    version: request.version,
  });
  const refused = pipeline.stages.filter((stage) => !allows(token, request.service, stage.environment));
  if (refused.length > 0)
    throw new HttpProblem(
      403,
      `token ${token.name} may not release ${request.service} to ${refused.map((stage) => stage.environment).join(', ')}`,
    );
  const releases = await options.releases();
  const { pipelineId, started } = await new PipelineClient(releases.client, releases.taskQueue).start(pipeline, {
    id: `ci:${token.name}`,
    name: request.triggeredBy ? `${token.name} (${request.triggeredBy})` : token.name,
    via: 'ci',
  });
  options.log.info(
    { pipelineId, started, token: token.name },
    started ? 'pipeline started by CI' : 'duplicate CI request',
  );
  send(res, started ? 201 : 200, {
    pipelineId,
    started,
    environments: pipeline.stages.map((stage) => stage.environment),
    message: started ? `started ${pipelineId}` : `${pipelineId} is already running; nothing new was started`,
    status: `/api/pipelines/${encodeURIComponent(pipelineId)}`,
    ...(options.uiUrl ? { link: temporalUiLink(options.uiUrl, pipelineId, options.namespace) } : {}),
  });
}

async function describePipeline(
  options: ReleaseApiOptions,
  token: ApiToken,
  pipelineId: string,
  res: http.ServerResponse,
): Promise<void> {
  const releases = await options.releases();
  const status = await new PipelineClient(releases.client, releases.taskQueue).status(pipelineId);
  const refused = status.environments.filter((environment) => !allows(token, status.service, environment.environment));
  if (refused.length > 0)
    throw new HttpProblem(403, `token ${token.name} may not read pipeline runs of ${status.service}`);
  send(res, 200, {
    pipelineId,
    environments: status.environments.map(({ environment, state, releaseId, reason }) => ({
      environment,
      state,
      releaseId: releaseId ?? null,
      reason: reason ?? null,
    })),
    outcome: status.outcome?.outcome ?? null,
    reason: status.outcome?.reason ?? null,
    done: status.outcome !== undefined,
  });
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new HttpProblem(413, `the body is over ${MAX_BODY_BYTES / 1024} KiB`));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      } catch {
        reject(new HttpProblem(400, 'the body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof NotFound) return new HttpProblem(404, err.message);
  if (err instanceof SpecError)
    return new HttpProblem(422, err.message, { problems: err.problems.map((p) => `${p.path}: ${p.message}`) });
  if (err instanceof TemporalUnreachable) return new HttpProblem(503, err.message);
  if (err instanceof TollgateError) return new HttpProblem(409, err.message);
  return new HttpProblem(500, 'internal error; the server log has the details');
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
