import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { profileFor } from './profiles';

/**
 * The sample service Tollgate releases in the demo and the tests. Its behaviour comes from its
 * version's profile (profiles.ts): healthy, slow (a latency regression), faulty (fails a share of
 * requests) or never-ready. It labels its metrics with service and version, answers with an
 * x-version header, and drains in-flight requests on SIGTERM.
 *
 *   PORT=8080 TOLLGATE_VERSION=2.0.0 node --import tsx examples/sample-service/server.ts
 */
const port = Number(process.env.PORT ?? 8080);
const version = process.env.TOLLGATE_VERSION ?? '0.0.0';
const service = process.env.TOLLGATE_SERVICE ?? 'sample';
const { name: profileName, profile } = profileFor(version);

const registry = new Registry();
registry.setDefaultLabels({ service, version });
collectDefaultMetrics({ register: registry });
const requests = new Counter({
  name: 'http_requests_total',
  help: 'Requests served, by status code',
  labelNames: ['code'],
  registers: [registry],
});
const duration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time to answer a request',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

const server = http.createServer((req, res) => void answer(req, res));

async function answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.url === '/metrics') {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
    return;
  }
  if (req.url === '/healthz') {
    res.statusCode = profile.ready ? 200 : 503;
    res.end(profile.ready ? 'ok' : 'not ready');
    return;
  }
  const stop = duration.startTimer();
  const [low, high] = profile.latencyMs;
  await sleep(low + Math.random() * (high - low));
  const failed = Math.random() < profile.errorRate;
  res.statusCode = failed ? 500 : 200;
  res.setHeader('x-version', version);
  res.setHeader('content-type', 'application/json');
  res.end(
    JSON.stringify(
      failed ? { error: 'simulated failure', version } : { service, version, instance: process.env.TOLLGATE_INSTANCE },
    ),
  );
  requests.inc({ code: String(res.statusCode) });
  stop();
}
server.keepAliveTimeout = 30_000;

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${service} ${version} (${profileName}) listening on 127.0.0.1:${port}\n`);
});

// Drain: stop accepting, close idle keep-alive connections, let in-flight requests finish.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
