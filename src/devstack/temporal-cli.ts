import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from './cache-dir';

const execFileAsync = promisify(execFile);

/**
 * The Temporal CLI release Tollgate installs through the Go module proxy. Later releases carry a
 * `replace` directive in go.mod, which `go install pkg@version` refuses.
 */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export type CliSource = 'TEMPORAL_CLI' | 'PATH' | 'cache' | 'go install';

export interface TemporalCli {
  path: string;
  source: CliSource;
}

async function isTemporalCli(candidate: string): Promise<boolean> {
  try {
    const { stdout } = await execFileAsync(candidate, ['--version'], { timeout: 15_000 });
    return /temporal version/i.test(stdout);
  } catch {
    return false;
  }
}

function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The cached binary's path, whether or not it exists yet. */
export function cachedCliPath(): string {
  return path.join(cacheDir(), 'bin', 'temporal');
}

/**
 * Finds the Temporal CLI: TEMPORAL_CLI, then `temporal` on PATH, then Tollgate's cache; failing
 * those, builds it with `go install` into the cache. Returns undefined when none of that works,
 * so the caller can fall back to the SDK's own download on machines with internet.
 */
export async function findOrInstallTemporalCli(
  log: (line: string) => void = () => {},
): Promise<TemporalCli | undefined> {
  const explicit = process.env.TEMPORAL_CLI;
  if (explicit) {
    if (await isTemporalCli(explicit)) return { path: explicit, source: 'TEMPORAL_CLI' };
    throw new Error(
      `TEMPORAL_CLI=${explicit} is not a Temporal CLI (\`${explicit} --version\` failed); unset it or point it at the temporal binary`,
    );
  }
  const fromPath = onPath('temporal');
  if (fromPath && (await isTemporalCli(fromPath))) return { path: fromPath, source: 'PATH' };
  const cached = cachedCliPath();
  if (fs.existsSync(cached) && (await isTemporalCli(cached))) return { path: cached, source: 'cache' };

  const go = onPath('go');
  if (!go) {
    log('Temporal CLI not found and Go is not installed; falling back to the SDK download');
    return undefined;
  }
  log(`Installing the Temporal CLI with go install ${TEMPORAL_CLI_MODULE} (once; cached in ${path.dirname(cached)})`);
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  try {
    await execFileAsync(go, ['install', TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: path.dirname(cached), CGO_ENABLED: process.env.CGO_ENABLED ?? '0' },
      timeout: 30 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    log(`go install failed; falling back to the SDK download:\n${stderr.split('\n').slice(-10).join('\n')}`);
    return undefined;
  }
  return (await isTemporalCli(cached)) ? { path: cached, source: 'go install' } : undefined;
}
