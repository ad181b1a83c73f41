import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ChildDaemon {
  process: ChildProcess;
  /** The end of what it printed, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * A server the local stack runs in the foreground as its child (HAProxy, Prometheus): stopped with
 * SIGTERM, then SIGKILL, and killed with this process if it exits first.
 */
export function startChildDaemon(
  binary: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ChildDaemon {
  const child = spawn(binary, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    process: child,
    output: () => output.trim(),
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `ready` until it resolves true; throws with the daemon's output if it exits or time runs out. */
export async function waitForDaemon(
  daemon: ChildDaemon,
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (daemon.process.exitCode !== null)
      throw new Error(`${what} exited with status ${daemon.process.exitCode}: ${daemon.output()}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`${what} did not start within ${timeoutMs / 1000}s: ${daemon.output()}`);
    }
    await sleep(100);
  }
}
