import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startChildDaemon, waitForDaemon } from './child-daemon';
import { freePort } from './free-port';
import { findOrInstallBinary, PROMETHEUS } from './system-binary';

export interface LocalPrometheus {
  url: string;
  /** file_sd folder: the process deployer writes a targets file per version here (deploy.prometheusTargets). */
  targetsDir: string;
  stop(): Promise<void>;
}

/**
 * Prometheus on loopback, scraping every second whatever the targets folder lists, so a canary's
 * metrics exist within a second or two of its start.
 */
export async function startPrometheus(
  options: { scrapeInterval?: string; log?: (line: string) => void } = {},
): Promise<LocalPrometheus> {
  const binary = await findOrInstallBinary(PROMETHEUS, options.log);
  const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'tollgate-prometheus-'));
  const targetsDir = path.join(dir, 'targets');
  fs.mkdirSync(targetsDir);
  const interval = options.scrapeInterval ?? '1s';
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(
    configFile,
    `global:
  scrape_interval: ${interval}
  evaluation_interval: ${interval}
scrape_configs:
  - job_name: services
    scrape_timeout: ${interval}
    file_sd_configs:
      - files: ['${targetsDir}/*.json']
        refresh_interval: ${interval}
`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const daemon = startChildDaemon(binary, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1d',
    '--log.level=warn',
  ]);
  await waitForDaemon(daemon, 'Prometheus', async () => (await fetch(`${url}/-/ready`)).ok, 60_000);
  return {
    url,
    targetsDir,
    stop: async () => {
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
