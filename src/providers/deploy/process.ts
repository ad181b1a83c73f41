import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Deployment, Endpoint } from '../../domain/deployment';
import { toMillis } from '../../domain/duration';
import type { ProcessDeploy } from '../../domain/spec';
import { ProviderError, type ProviderContext } from '../context';
import { factsEnvironment, resolveSpecEnvironment } from '../exec/environment';
import { INHERITED_VARIABLES } from '../exec/exec-step';
import { redact } from '../exec/run-command';
import type { Deployer } from './deployer';
import { isAlive } from '../exec/process-identity';
import { InstanceRecords, type InstanceRecord, type VersionRecord } from './instance-records';
import { anyFreePort, canListen, isLocalHost } from './ports';
import { removePrometheusTargets, writePrometheusTargets } from './prometheus-targets';
import { waitUntilReady } from './readiness';
import { instanceKey, stopProcessGroup, supervisor } from './supervisor';

/** The end of an instance's log shown when it never became ready. */
const LOG_TAIL_BYTES = 1500;

/**
 * Starts each version as `instances` supervised processes and waits until every one answers its
 * readiness probe before any traffic may reach it. A version that is not ready in time is stopped
 * and its step fails for good: waiting longer is what readiness.timeout is for.
 */
export class ProcessDeployer implements Deployer {
  readonly type = 'process';

  constructor(private readonly config: ProcessDeploy) {}

  async deploy(ctx: ProviderContext, version: string): Promise<Deployment> {
    const records = this.records(ctx);
    const env = this.environment(ctx, version);
    const record: VersionRecord = records.read(version) ?? { version, instances: [] };
    const kept: InstanceRecord[] = [];
    for (let index = 0; index < this.config.instances; index++) {
      const existing = record.instances.find((instance) => instance.index === index);
      if (existing && isAlive(existing.pid)) {
        kept.push(existing);
        continue;
      }
      const previous = existing?.port ?? record.ports?.[index];
      const port =
        previous !== undefined && (await this.portIsFree(previous)) ? previous : await this.allocatePort(records, kept);
      const instance = this.startInstance(ctx, records, version, index, port, env);
      kept.push(instance);
      // Recorded at once: a worker dying now leaves something another can find and stop.
      records.write({ ...record, instances: [...kept, ...record.instances.filter((other) => other.index > index)] });
    }
    // Scaled down since the last deploy of this version: stop the extra instances.
    const extra = record.instances.filter((instance) => instance.index >= this.config.instances);
    await Promise.all(extra.map((instance) => this.stopInstance(records, version, instance)));
    records.write({ version, instances: kept, ports: kept.map((instance) => instance.port) });

    const endpoints: Endpoint[] = kept.map((instance) => ({ host: instance.host, port: instance.port }));
    if (this.config.prometheusTargets)
      writePrometheusTargets(this.config.prometheusTargets, ctx.facts.service, version, endpoints);

    const readiness = this.config.readiness;
    const reasons = await Promise.all(
      kept.map((instance) =>
        waitUntilReady({
          url: `http://${hostForUrl(instance.host)}:${instance.port}${readiness.path}`,
          timeoutMs: toMillis(readiness.timeout),
          intervalMs: toMillis(readiness.interval),
          signal: ctx.signal,
        }),
      ),
    );
    const unready = kept
      .map((instance, index) => ({ instance, reason: reasons[index] }))
      .filter((entry) => entry.reason);
    if (unready.length > 0) {
      const { instance, reason } = unready[0];
      const tail = this.logTail(instance.log, env.secrets);
      await this.undeploy(ctx, version);
      throw new ProviderError(
        `${ctx.facts.service} ${version} did not become ready within ${readiness.timeout}: ${unready.length} of ${kept.length} instances ` +
          `never answered ${readiness.path} (instance ${instance.index} on ${instance.host}:${instance.port}: ${reason}); ` +
          `its instances were stopped.${tail ? ` Its last output:\n${tail}` : ''}`,
        false,
      );
    }
    ctx.log.info({ version, endpoints }, 'version ready');
    return { version, endpoints };
  }

  async undeploy(ctx: ProviderContext, version: string): Promise<void> {
    const records = this.records(ctx);
    const record = records.read(version);
    if (this.config.prometheusTargets)
      removePrometheusTargets(this.config.prometheusTargets, ctx.facts.service, version);
    if (!record) return;
    await Promise.all(record.instances.map((instance) => this.stopInstance(records, version, instance)));
    // Undeploying twice must not forget the ports the first one kept.
    const ports =
      record.instances.length > 0 ? record.instances.map((instance) => instance.port) : (record.ports ?? []);
    records.write({ version, instances: [], ports });
    ctx.log.info({ version }, 'version stopped');
  }

  private records(ctx: ProviderContext): InstanceRecords {
    const dir =
      this.config.stateDirectory ??
      path.join(os.tmpdir(), 'tollgate-processes', `${ctx.facts.service}-${ctx.facts.environment}`);
    return new InstanceRecords(dir);
  }

  private environment(ctx: ProviderContext, version: string): { vars: Record<string, string>; secrets: string[] } {
    const resolved = resolveSpecEnvironment(this.config.env, process.env);
    const inherited = Object.fromEntries(
      INHERITED_VARIABLES.filter((name) => process.env[name] !== undefined).map((name) => [
        name,
        process.env[name] as string,
      ]),
    );
    return {
      vars: { ...inherited, ...resolved.env, ...factsEnvironment(ctx.facts, { TOLLGATE_VERSION: version }) },
      secrets: resolved.secrets,
    };
  }

  private startInstance(
    ctx: ProviderContext,
    records: InstanceRecords,
    version: string,
    index: number,
    port: number,
    env: { vars: Record<string, string> },
  ): InstanceRecord {
    const command = this.config.command
      .replaceAll('{{port}}', String(port))
      .replaceAll('{{version}}', version)
      .replaceAll('{{instance}}', String(index));
    const log = records.logFile(version, index);
    const key = instanceKey(records.dir, version, index);
    const pid = supervisor.start({
      key,
      command,
      cwd: this.config.workingDirectory,
      env: { ...env.vars, PORT: String(port), TOLLGATE_INSTANCE: String(index) },
      log,
      onRestart: (newPid) => {
        const current = records.read(version);
        if (!current) return;
        records.write({
          ...current,
          instances: current.instances.map((instance) =>
            instance.index === index ? { ...instance, pid: newPid } : instance,
          ),
        });
      },
    });
    ctx.log.info({ version, index, port, pid }, 'instance started');
    return { index, pid, host: this.config.host, port, startedAt: new Date().toISOString(), log };
  }

  /** No longer restarted; SIGTERM to its process group, SIGKILL after stopTimeout. Idempotent. */
  private async stopInstance(records: InstanceRecords, version: string, instance: InstanceRecord): Promise<void> {
    supervisor.release(instanceKey(records.dir, version, instance.index));
    await stopProcessGroup(instance.pid, toMillis(this.config.stopTimeout));
  }

  private async portIsFree(port: number): Promise<boolean> {
    return !isLocalHost(this.config.host) || canListen(this.config.host, port);
  }

  /** A port no recorded instance of any version holds, free on this machine when the host is local. */
  private async allocatePort(records: InstanceRecords, pending: InstanceRecord[]): Promise<number> {
    const held = new Set([
      ...records
        .all()
        .flatMap((record) => [...record.instances.map((instance) => instance.port), ...(record.ports ?? [])]),
      ...pending.map((instance) => instance.port),
    ]);
    if (!this.config.ports) {
      if (!isLocalHost(this.config.host)) {
        throw new ProviderError(
          `deploy.ports is required when deploy.host (${this.config.host}) is not this machine: name a range such as "20000-20999"`,
          false,
        );
      }
      for (;;) {
        const port = await anyFreePort(this.config.host);
        if (!held.has(port)) return port;
      }
    }
    const [from, to] = this.config.ports.split('-').map(Number);
    for (let port = from; port <= to; port++) {
      if (!held.has(port) && (await this.portIsFree(port))) return port;
    }
    throw new ProviderError(
      `no free port left in deploy.ports ${this.config.ports}; widen the range or stop old versions`,
      false,
    );
  }

  private logTail(file: string, secrets: string[]): string {
    try {
      const text = fs.readFileSync(file, 'utf8');
      return redact(text.slice(-LOG_TAIL_BYTES), secrets).trim();
    } catch {
      return '';
    }
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
