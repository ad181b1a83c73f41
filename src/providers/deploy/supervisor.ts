import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { required } from '../../domain/required';
import { isAlive } from '../exec/process-identity';

export interface InstanceLaunch {
  /** Identifies the instance across calls: the same key is never started twice by one worker. */
  key: string;
  command: string;
  cwd?: string;
  env: Record<string, string>;
  log: string;
  /** Told the new pid after a restart, so the instance's record stays true. */
  onRestart: (pid: number) => void;
}

const RESTART_BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];

interface Supervised {
  child: ChildProcess;
  stopping: boolean;
  restarts: number;
}

/**
 * Keeps the instances this worker started running: one that exits on its own is started again on
 * the same port, with a growing pause. Instances run in their own process group and survive the
 * worker (traffic must not depend on a worker being alive); another worker stops them by their pid.
 */
class Supervisor {
  private readonly instances = new Map<string, Supervised>();

  start(launch: InstanceLaunch): number {
    const child = this.spawn(launch);
    const supervised: Supervised = { child, stopping: false, restarts: 0 };
    this.instances.set(launch.key, supervised);
    this.watch(launch, supervised);
    return required(child.pid, 'pid of the started process');
  }

  /** Stops restarting an instance; the caller then signals it. */
  release(key: string): void {
    const supervised = this.instances.get(key);
    if (supervised) supervised.stopping = true;
    this.instances.delete(key);
  }

  private spawn(launch: InstanceLaunch): ChildProcess {
    const out = fs.openSync(launch.log, 'a');
    try {
      const child = spawn('/bin/sh', ['-c', launch.command], {
        cwd: launch.cwd,
        env: launch.env,
        detached: true,
        stdio: ['ignore', out, out],
      });
      child.unref();
      return child;
    } finally {
      fs.closeSync(out);
    }
  }

  private watch(launch: InstanceLaunch, supervised: Supervised): void {
    supervised.child.once('exit', () => {
      if (supervised.stopping || this.instances.get(launch.key) !== supervised) return;
      const pause = RESTART_BACKOFF_MS[Math.min(supervised.restarts, RESTART_BACKOFF_MS.length - 1)];
      setTimeout(() => {
        if (supervised.stopping || this.instances.get(launch.key) !== supervised) return;
        // Its records are gone (the host's state folder was removed): nobody could stop it, so do not start it.
        if (!fs.existsSync(path.dirname(launch.log))) return;
        supervised.restarts++;
        fs.appendFileSync(launch.log, `\n[tollgate] instance exited; restart ${supervised.restarts}\n`);
        supervised.child = this.spawn(launch);
        launch.onRestart(required(supervised.child.pid, 'pid of the restarted process'));
        this.watch(launch, supervised);
      }, pause).unref();
    });
  }
}

/** The supervisor's key for one instance: the folder of its records, its version and index. */
export function instanceKey(recordsDir: string, version: string, index: number): string {
  return `${recordsDir}/${version}/${index}`;
}

/** SIGTERM to an instance's process group, SIGKILL once `timeoutMs` has passed with it still running. Idempotent. */
export async function stopProcessGroup(pid: number, timeoutMs: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      try {
        process.kill(pid, name);
      } catch {
        // already gone
      }
    }
  };
  if (!isAlive(pid)) return;
  signal('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) signal('SIGKILL');
}

/** One per worker process: instances are supervised by whichever worker started them. */
export const supervisor = new Supervisor();
