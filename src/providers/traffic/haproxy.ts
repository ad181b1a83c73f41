import { endpointKey } from '../../domain/deployment';
import { toMillis } from '../../domain/duration';
import { trafficShare, type RouteRequest, type RouteSnapshot, type ServerState } from '../../domain/routing';
import type { HaproxyTraffic } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { HaproxyRuntimeApi } from './haproxy-runtime-api';
import type { TrafficRouter } from './router';
import { commandsFor, planSplit } from './split-plan';

/**
 * Weights through HAProxy's Runtime API (`set server <backend>/<server> weight N`): no reload, so no
 * connection is dropped. Every call states the whole wanted state of the backend, computed from what
 * it holds now, so running it twice changes nothing. A blue-green switch is one such call.
 */
export class HaproxyTrafficRouter implements TrafficRouter {
  readonly type = 'haproxy';
  readonly writesUnderFence = true;

  constructor(private readonly config: HaproxyTraffic) {}

  async setWeight(ctx: ProviderContext, request: RouteRequest): Promise<RouteSnapshot> {
    this.requireCanary(request);
    // Read, decide and write under the lane's fence: a stale attempt writes nothing.
    const apply = async () => {
      const api = this.api(ctx);
      const current = await this.managedServers(api);
      const plan = planSplit(this.type, this.config.backend, current, request);
      const commands = commandsFor(this.config.backend, current, plan.targets);
      if (commands.length > 0) {
        await api.run(commands);
        ctx.log.info({ backend: this.config.backend, weight: request.weight, commands }, 'haproxy weights set');
      }
      return plan.baseline;
    };
    return ctx.fenced ? ctx.fenced(apply) : apply();
  }

  async verifyWeight(ctx: ProviderContext, request: RouteRequest): Promise<boolean> {
    const api = this.api(ctx);
    const current = await this.managedServers(api);
    const plan = planSplit(this.type, this.config.backend, current, request);
    const byName = new Map(current.map((server) => [server.name, server]));
    const differing = plan.targets.filter((target) => {
      const now = byName.get(target.name);
      return (
        !now ||
        now.weight !== target.weight ||
        now.state !== target.state ||
        (target.state === 'ready' && endpointKey(now) !== endpointKey(target))
      );
    });
    if (differing.length > 0) {
      ctx.log.warn({ differing: differing.map((server) => server.name) }, 'haproxy weights differ from the plan');
      return false;
    }
    const share = trafficShare(current, (server) => plan.canaryNames.has(server.name));
    ctx.log.debug({ backend: this.config.backend, share }, 'haproxy weights verified');
    return true;
  }

  private requireCanary(request: RouteRequest): void {
    if (request.weight > 0 && !request.canary?.endpoints.length) {
      throw new ProviderError(
        'the haproxy router needs to know where the new version listens; use a deployer that reports its instances (deploy.provider: process)',
        false,
      );
    }
  }

  private api(ctx: ProviderContext): HaproxyRuntimeApi {
    return new HaproxyRuntimeApi(this.config.runtimeApi, toMillis(this.config.timeout), ctx.signal);
  }

  private async managedServers(api: HaproxyRuntimeApi): Promise<ServerState[]> {
    const servers = await api.servers(this.config.backend);
    const managed = servers.filter((server) => server.name.startsWith(this.config.serverPrefix));
    if (managed.length === 0) {
      throw new ProviderError(
        `backend ${this.config.backend} has no servers${this.config.serverPrefix ? ` named ${this.config.serverPrefix}*` : ''}; declare slots in haproxy.cfg (server-template slot 1-8 127.0.0.1:1 disabled)`,
        false,
      );
    }
    return managed;
  }
}
