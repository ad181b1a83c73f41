import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from '../cache-dir';
import { findOrInstallBinary, type SystemBinary } from '../system-binary';

const execFileAsync = promisify(execFile);

/** etcd comes from Debian's archive (3.4 is enough for the API server's storage). */
export const ETCD: SystemBinary = { binary: 'etcd', aptPackage: 'etcd-server', envVariable: 'TOLLGATE_ETCD' };

/** What the Kubernetes test stack runs, all built or fetched through the Go module proxy. */
export interface KubernetesBinaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kwok: string;
  /** kwok's stage definitions (node and pod lifecycles), from its module. */
  kwokStages: string;
  /** The Gateway API's standard-channel CRDs (HTTPRoute and friends), one YAML file each. */
  gatewayApiCrds: string[];
}

/** The shell script that builds them once under a lock (flock), shared by `.ci/run` and the test stack. */
export const BUILD_SCRIPT = path.join(__dirname, 'build-binaries.sh');

export function kubernetesBinDir(): string {
  return path.join(cacheDir(), 'kubernetes');
}

/**
 * Finds the binaries in the cache, building what is missing first (about 15 minutes of CPU on a
 * cold Go cache; nothing when cached). Concurrent callers wait on the script's lock and share one build.
 */
export async function findOrBuildKubernetesBinaries(
  log: (line: string) => void = () => {},
): Promise<KubernetesBinaries> {
  const dir = kubernetesBinDir();
  const etcd = await findOrInstallBinary(ETCD, log);
  log(`Kubernetes binaries in ${dir} (built once with ${path.basename(BUILD_SCRIPT)} when missing)`);
  try {
    await execFileAsync('bash', [BUILD_SCRIPT, dir], { timeout: 60 * 60_000, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`building the Kubernetes test binaries failed:\n${stderr.split('\n').slice(-20).join('\n')}`, {
      cause: err,
    });
  }
  const crdDir = path.join(dir, 'gateway-api-crds');
  return {
    etcd,
    kubeApiserver: path.join(dir, 'kube-apiserver'),
    kubeControllerManager: path.join(dir, 'kube-controller-manager'),
    kubeScheduler: path.join(dir, 'kube-scheduler'),
    kwok: path.join(dir, 'kwok'),
    kwokStages: path.join(dir, 'kwok-stages.yaml'),
    gatewayApiCrds: fs
      .readdirSync(crdDir)
      .filter((file) => file.endsWith('.yaml'))
      .sort()
      .map((file) => path.join(crdDir, file)),
  };
}
