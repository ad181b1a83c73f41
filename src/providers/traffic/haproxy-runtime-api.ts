import net from 'node:net';
import type { ServerState } from '../../domain/routing';
import { ProviderError } from '../context';

/** Admin-state bits of `show servers state` that take a server out of rotation (forced, inherited, resolver maintenance; drain). */
const OUT_OF_ROTATION = 0x01 | 0x02 | 0x20 | 0x08 | 0x10;

/** How HAProxy words a refused command; a successful `set` prints nothing or a notice. */
const REFUSAL =
  /no such|unknown|invalid|require|not allowed|permission denied|cannot|can't|failed|unexpected|not found|missing/i;

/**
 * HAProxy's Runtime API (the stats socket at `level admin`): a unix socket path, or host:port for
 * `stats socket ipv4@127.0.0.1:9999`. Each call is one connection in non-interactive mode, with the
 * commands joined by ";" so HAProxy applies them together, in order.
 */
export class HaproxyRuntimeApi {
  constructor(
    readonly address: string,
    private readonly timeoutMs = 5000,
    private readonly signal?: AbortSignal,
  ) {}

  /** Runs commands in one call and returns HAProxy's answer; throws naming the command HAProxy refused. */
  async run(commands: string[]): Promise<string> {
    if (commands.length === 0) return '';
    const output = await this.send(`${commands.join(';')}\n`);
    const refused = output
      .split('\n')
      .map((line) => line.trim())
      .find((line) => REFUSAL.test(line));
    if (refused) {
      throw new ProviderError(
        `HAProxy refused a Runtime API command on ${this.address}: "${refused}" (commands: ${commands.join('; ')})`,
        false,
      );
    }
    return output;
  }

  /** The servers of a backend, as `show servers state` reports them. */
  async servers(backend: string): Promise<ServerState[]> {
    const output = await this.send(`show servers state ${backend}\n`);
    if (/can't find backend/i.test(output)) {
      throw new ProviderError(
        `HAProxy at ${this.address} has no backend "${backend}"; check traffic.backend against haproxy.cfg`,
        false,
      );
    }
    const lines = output.split('\n').filter((line) => line.trim() !== '');
    const header = lines.find((line) => line.startsWith('# be_id'));
    if (!header)
      throw new ProviderError(
        `unexpected answer from HAProxy's Runtime API at ${this.address}: ${output.slice(0, 200)}`,
      );
    const columns = header.slice(2).split(' ');
    const column = (fields: string[], name: string) => fields[columns.indexOf(name)];
    return lines
      .filter((line) => !line.startsWith('#') && line.split(' ').length >= columns.length)
      .map((line) => line.split(' '))
      .filter((fields) => column(fields, 'be_name') === backend)
      .map((fields) => ({
        name: column(fields, 'srv_name'),
        host: column(fields, 'srv_addr'),
        port: Number(column(fields, 'srv_port')),
        weight: Number(column(fields, 'srv_uweight')),
        state: Number(column(fields, 'srv_admin_state')) & OUT_OF_ROTATION ? ('maint' as const) : ('ready' as const),
      }));
  }

  private send(payload: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const target = /^[^/]+:\d+$/.test(this.address)
        ? {
            host: this.address.slice(0, this.address.lastIndexOf(':')),
            port: Number(this.address.slice(this.address.lastIndexOf(':') + 1)),
          }
        : { path: this.address };
      const socket = net.connect(target);
      const chunks: Buffer[] = [];
      const fail = (err: Error) => {
        socket.destroy();
        reject(
          new ProviderError(
            `cannot reach HAProxy's Runtime API at ${this.address}: ${err.message}; is HAProxy running with "stats socket ${this.address} level admin"?`,
          ),
        );
      };
      socket.setTimeout(this.timeoutMs, () => fail(new Error(`no answer within ${this.timeoutMs} ms`)));
      const onAbort = () => fail(new Error('cancelled'));
      this.signal?.addEventListener('abort', onAbort, { once: true });
      socket.on('connect', () => socket.end(payload));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', fail);
      socket.on('close', () => {
        this.signal?.removeEventListener('abort', onAbort);
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
    });
  }
}
