import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on loopback standing in for a service behind its router: it answers
 * /<environment>/<version>/healthz with 200 "ok", except for versions the test marked broken,
 * which answer 500. Records every request, so a test can say which checks ran against what.
 */
export class SmokeTarget {
  readonly requests: string[] = [];
  private readonly broken = new Set<string>();
  private server?: http.Server;
  private port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((request, response) => {
      const url = request.url ?? '/';
      this.requests.push(url);
      const [, , version] = url.split('/');
      if (this.broken.has(version)) {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('database unreachable');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The URL template a spec's smoke check uses. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/{{environment}}/{{version}}/healthz`;
  }

  breakVersion(version: string): void {
    this.broken.add(version);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
