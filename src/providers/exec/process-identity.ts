import fs from 'node:fs';
import os from 'node:os';

/**
 * Who a process is, beyond its pid: pids are reused, so a process is also known by its start time
 * (clock ticks since boot, from /proc/<pid>/stat) and the boot it belongs to.
 */

/** This boot of this machine; pids of another boot mean nothing here. */
export function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return `uptime-unknown:${os.hostname()}`;
  }
}

/** The process's start time in clock ticks since boot, or undefined when it is gone. */
export function startTicks(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall: starttime
  } catch {
    return undefined;
  }
}

/** Is the process with this pid, started at `ticks`, still there (and not a zombie)? */
export function isSameProcess(pid: number, ticks: string): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] !== 'Z' && fields[19] === ticks;
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
