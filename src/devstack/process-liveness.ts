import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Is a process with this pid running (on this machine)? */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a running process, or undefined when it is gone. */
export function commandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    // No /proc (macOS), or the process is gone.
  }
  try {
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/**
 * Is `pid` running and is it the process we think (its command line contains `marker`, e.g. its
 * data folder)? A pid recorded long ago may since belong to something else, which we never stop.
 */
export function isRunningAs(pid: number, marker: string): boolean {
  if (!isRunning(pid)) return false;
  return commandLine(pid)?.includes(marker) ?? false;
}

/** Sends `signal`, waits up to `graceMs` for the process to exit, then kills it. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, graceMs = 15_000): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
    }
    await sleep(100);
  }
}
