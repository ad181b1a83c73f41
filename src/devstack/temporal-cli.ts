import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from './cache-dir';
import { buildOnce } from './shared-build';

const execFileAsync = promisify(execFile);

/**
 * The Temporal CLI release Tollgate installs through the Go module proxy. Later releases carry a
 * `replace` directive in go.mod, which `go install pkg@version` refuses.
 */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

/** A cold build on a busy 2-core machine took 18 minutes; past this, something is wrong. */
const GO_INSTALL_TIMEOUT_MS = 45 * 60_000;

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

/** Options for finding or building the CLI: where progress goes, and a terminal to redraw it on. */
export interface FindCliOptions {
  terminal?: NodeJS.WriteStream;
  progressEveryMs?: number;
}

/**
 * Finds the Temporal CLI: TEMPORAL_CLI, then `temporal` on PATH, then Tollgate's cache; failing
 * those, builds it with `go install` into the cache, once however many runs ask at the same time
 * (src/devstack/shared-build.ts), with progress. Returns undefined when none of that works, so the
 * caller can fall back to the SDK's own download on machines with internet.
 */
export async function findOrInstallTemporalCli(
  log: (line: string) => void = () => {},
  options: FindCliOptions = {},
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
  const isBuilt = async () => fs.existsSync(cached) && (await isTemporalCli(cached));
  if (await isBuilt()) return { path: cached, source: 'cache' };

  const go = onPath('go');
  if (!go) {
    log('Temporal CLI not found and Go is not installed; falling back to the SDK download');
    return undefined;
  }
  try {
    const outcome = await buildOnce(
      {
        what: `the Temporal CLI (go install ${TEMPORAL_CLI_MODULE})`,
        key: `temporal-cli-${TEMPORAL_CLI_MODULE.split('@')[1]}`,
        cacheDir: cacheDir(),
        firstTimeEstimate:
          'a first build takes 5 to 20 minutes on 2 cores, longer on a busy machine; Go keeps its module and build caches for the next',
        isBuilt,
        build: (step) => goInstall(go, cached, step),
      },
      { say: log, terminal: options.terminal, progressEveryMs: options.progressEveryMs },
    );
    return { path: cached, source: outcome === 'present' ? 'cache' : 'go install' };
  } catch (err) {
    log(`go install failed; falling back to the SDK download:\n${(err as Error).message}`);
    return undefined;
  }
}

/**
 * `go install -v` into a folder of its own, then moved into place: a binary appears in the cache
 * whole or not at all. -v names each package as it is compiled, which the progress line shows.
 */
async function goInstall(go: string, target: string, step: (detail: string) => void): Promise<void> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const staging = fs.mkdtempSync(path.join(path.dirname(target), '.building-'));
  try {
    const child = spawn(go, ['install', '-v', TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: staging, CGO_ENABLED: process.env.CGO_ENABLED ?? '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let tail = '';
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        tail = `${tail}${line}\n`.slice(-4000);
        const downloading = /^go: downloading (\S+) (\S+)/.exec(line);
        if (downloading) step(`downloading ${downloading[1]}`);
        else if (/^[\w.-]+(\/[\w.~-]+)+$/.test(line.trim())) step(`compiling ${line.trim()}`);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), GO_INSTALL_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    }).finally(() => clearTimeout(timer));
    if (code !== 0) throw new Error(`go install exited with ${code}:\n${tail.split('\n').slice(-12).join('\n')}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.renameSync(path.join(staging, 'temporal'), target);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
