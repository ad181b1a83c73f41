import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A unix-socket proxy in front of another unix socket (HAProxy's Runtime API) that the test can
 * hold: while held, what clients send waits in the proxy, so a step that talks to the socket is
 * "slow" exactly as long as the test wants. Clients half-close after their command, as
 * HaproxyRuntimeApi does, so the proxy keeps half-open connections.
 */
export class HeldSocketProxy {
  readonly path: string;
  private held = false;
  private readonly waiting = new Set<() => void>();
  private readonly server: net.Server;

  private constructor(readonly target: string) {
    this.path = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-proxy-')), 'proxy.sock');
    this.server = net.createServer({ allowHalfOpen: true }, (client) => this.relay(client));
  }

  static async start(target: string): Promise<HeldSocketProxy> {
    const proxy = new HeldSocketProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(proxy.path, resolve));
    return proxy;
  }

  /** From now on, requests wait in the proxy. */
  hold(): void {
    this.held = true;
  }

  /** Lets every waiting request through, and the ones after it. */
  open(): void {
    this.held = false;
    for (const release of [...this.waiting]) release();
  }

  /** How many requests wait now. */
  get waitingRequests(): number {
    return this.waiting.size;
  }

  async stop(): Promise<void> {
    this.open();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(path.dirname(this.path), { recursive: true, force: true });
  }

  private relay(client: net.Socket): void {
    client.on('error', () => undefined);
    const chunks: Buffer[] = [];
    let upstream: net.Socket | undefined;
    const forward = () => {
      this.waiting.delete(forward);
      if (client.destroyed) return;
      upstream = net.createConnection(this.target);
      upstream.on('error', () => client.destroy());
      upstream.pipe(client);
      for (const chunk of chunks) upstream.write(chunk);
      chunks.length = 0;
      if (ended) upstream.end();
    };
    client.on('data', (chunk: Buffer) => {
      if (upstream) upstream.write(chunk);
      else {
        chunks.push(chunk);
        if (chunks.length === 1) {
          if (this.held) this.waiting.add(forward);
          else forward();
        }
      }
    });
    let ended = false;
    client.on('end', () => {
      ended = true;
      upstream?.end();
    });
    client.on('close', () => {
      this.waiting.delete(forward);
      upstream?.destroy();
    });
  }
}
