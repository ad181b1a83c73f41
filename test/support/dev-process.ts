import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const BIN = path.join(__dirname, '..', '..', 'bin', 'tollgate');

/** The environment of a person's shell: none of the test stack's addresses, so `tollgate dev` decides. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'TEMPORAL_UI_URL', 'TOLLGATE_TASK_QUEUE', 'TEMPORAL_CLI'])
    delete env[name];
  return env;
}

export interface DevProcess {
  child: ChildProcess;
  /** What it wrote to stderr (progress, the banner). */
  stderr(): string;
  /** Resolves once it prints its banner; rejects with its output if it exits first or the deadline passes. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM, and waits for it to exit. */
  stop(): Promise<number | null>;
}

/** `tollgate dev` in `cwd`, as a person starts it in a terminal (no terminal here, so JSON logs). */
export function startDev(cwd: string, env: NodeJS.ProcessEnv): DevProcess {
  const child = spawn(process.execPath, [BIN, 'dev'], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    ready: async (timeoutMs = 20 * 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!stderr.includes('tollgate dev is ready')) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(
            `tollgate dev exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${stderr}`,
          );
        if (Date.now() > deadline)
          throw new Error(`tollgate dev was not ready within ${timeoutMs / 1000}s:\n${stderr}`);
        await sleep(200);
      }
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
  };
}
