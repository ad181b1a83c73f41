import http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger';

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface AppRoutes {
  /** Bolt's request listener (Slack in HTTP mode), served at /slack/events. */
  slack?: Listener;
  /** People's decisions with OIDC bearer tokens; answers false for paths it does not serve. */
  decisionApi?: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
  /** The CI trigger; answers false for paths it does not serve. */
  releaseApi?: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
  /** Served at /metrics. */
  metrics?: Registry;
  /** The Temporal UI's codec endpoint, served under /codec. */
  codec?: Listener;
}

/**
 * The app's one HTTP server: Slack, the CI trigger, Prometheus metrics, the codec endpoint and a
 * health check, so a load balancer and Prometheus need one address.
 */
export function createAppServer(routes: AppRoutes, log: Logger): http.Server {
  return http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://tollgate').pathname;
    const fail = (err: unknown) => {
      log.error({ err, path }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end('internal error\n');
    };
    try {
      if (path === '/healthz') return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      if (path === '/slack/events' && routes.slack) return routes.slack(req, res);
      if (path === '/metrics' && routes.metrics) {
        const registry = routes.metrics;
        return void registry
          .metrics()
          .then((text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text))
          .catch(fail);
      }
      if (path.startsWith('/codec/') && routes.codec) {
        req.url = path.slice('/codec'.length);
        return routes.codec(req, res);
      }
      if (path.startsWith('/api/') && (routes.decisionApi || routes.releaseApi)) {
        const { decisionApi, releaseApi } = routes;
        return void (async () => (await decisionApi?.(req, res)) || (await releaseApi?.(req, res)))()
          .then((handled) => handled || res.writeHead(404).end())
          .catch(fail);
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    } catch (err) {
      fail(err);
    }
  });
}
