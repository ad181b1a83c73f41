import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HaproxyRuntimeApi } from '../providers/traffic/haproxy-runtime-api';
import { startChildDaemon, waitForDaemon } from './child-daemon';
import { freePort } from './free-port';
import { findOrInstallBinary, HAPROXY } from './system-binary';

export interface HaproxyService {
  /** The frontend and backend name: the service's name. */
  name: string;
  /** Server slots Tollgate can point at versions: at least twice the instances of one version. */
  slots?: number;
}

export interface LocalHaproxy {
  /** The Runtime API's unix socket: traffic.runtimeApi in a spec. */
  runtimeApi: string;
  /** Where each service's users connect: http://127.0.0.1:port. */
  frontends: Record<string, string>;
  configFile: string;
  stop(): Promise<void>;
}

export const DEFAULT_SLOTS = 8;

/** How many sets of free ports to try when another program takes one first. */
const PORT_ATTEMPTS = 5;

/**
 * HAProxy on loopback for the demo and the tests: one frontend and backend per service, whose
 * backend has disabled server slots (`server-template`) that Tollgate fills through the Runtime API.
 */
export async function startHaproxy(options: {
  services: HaproxyService[];
  log?: (line: string) => void;
  /** Where frontend ports come from (a test hands out a taken one). */
  ports?: () => Promise<number>;
}): Promise<LocalHaproxy> {
  const nextPort = options.ports ?? (() => freePort());
  const binary = await findOrInstallBinary(HAPROXY, options.log);
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tollgate-haproxy-'));
  const runtimeApi = path.join(dir, 'admin.sock');
  const configFile = path.join(dir, 'haproxy.cfg');
  // A free port is only free when it is checked: another program may take it before HAProxy binds
  // it. HAProxy then refuses to start (noreuseport), and it is tried again on other ports.
  for (let attempt = 1; ; attempt++) {
    const frontends: Record<string, string> = {};
    const sections: string[] = [];
    for (const service of options.services) {
      const port = await nextPort();
      frontends[service.name] = `http://127.0.0.1:${port}`;
      sections.push(haproxyServiceSection(service.name, port, service.slots ?? DEFAULT_SLOTS));
    }
    fs.writeFileSync(configFile, `${haproxyGlobalSection(runtimeApi)}\n${sections.join('\n')}`);
    const daemon = startChildDaemon(binary, ['-db', '-f', configFile]);
    const api = new HaproxyRuntimeApi(runtimeApi, 1000);
    try {
      await waitForDaemon(
        daemon,
        'HAProxy',
        async () => fs.existsSync(runtimeApi) && (await api.servers(options.services[0].name)).length > 0,
      );
    } catch (err) {
      await daemon.stop();
      if (attempt < PORT_ATTEMPTS && /cannot bind socket/.test(daemon.output())) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return {
      runtimeApi,
      frontends,
      configFile,
      stop: async () => {
        await daemon.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

export function haproxyGlobalSection(runtimeApi: string): string {
  return `global
  stats socket ${runtimeApi} mode 600 level admin
  maxconn 4096
  # Without it, a second HAProxy binds the same port too and the kernel splits users between the
  # two: a demo or test would silently send part of its traffic to someone else's backends.
  noreuseport

defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 10s
  # A connection refused by one server is tried on another, as in any production setup.
  retries 2
  option redispatch
`;
}

export function haproxyServiceSection(name: string, port: number, slots: number): string {
  return `frontend ${name}
  bind 127.0.0.1:${port}
  default_backend ${name}

backend ${name}
  balance roundrobin
  # Slots Tollgate points at versions through the Runtime API; out of rotation until then.
  server-template slot 1-${slots} 127.0.0.1:1 disabled weight 0
`;
}
