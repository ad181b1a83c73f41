import fs from 'node:fs';
import path from 'node:path';
import type { Endpoint } from '../../domain/deployment';

/**
 * Prometheus file-based service discovery: one file per version, so Prometheus scrapes new instances
 * within a scrape interval of their start and forgets retired ones. Labels say which version a
 * series belongs to even if the service does not label its own metrics.
 */
export function writePrometheusTargets(dir: string, service: string, version: string, endpoints: Endpoint[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const file = targetsFile(dir, service, version);
  const groups = [
    { targets: endpoints.map((endpoint) => `${endpoint.host}:${endpoint.port}`), labels: { service, version } },
  ];
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(groups, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

export function removePrometheusTargets(dir: string, service: string, version: string): void {
  fs.rmSync(targetsFile(dir, service, version), { force: true });
}

function targetsFile(dir: string, service: string, version: string): string {
  return path.join(dir, `${service}-${version}.json`);
}
