import fs from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux everywhere in practice). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  name: string;
  /** utime + stime, and those of its reaped children, in seconds. */
  cpuSeconds: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name is in parentheses and may contain spaces; the fields after it are plain numbers.
    const close = text.lastIndexOf(')');
    const name = text.slice(text.indexOf('(') + 1, close);
    const fields = text
      .slice(close + 2)
      .split(' ')
      .map(Number);
    // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17, ppid 4.
    const ticks = fields[11] + fields[12] + fields[13] + fields[14];
    return { pid, ppid: fields[1], name, cpuSeconds: ticks / TICKS_PER_SECOND };
  } catch {
    return undefined; // gone meanwhile
  }
}

/**
 * CPU seconds used so far by this process and every process below it, by program name
 * ("node", "temporal", "postgres"), plus the whole machine's busy seconds (every process, the
 * other users of a shared machine too). Differences of two readings say where a run's time went.
 */
export function cpuByProgram(): Map<string, number> {
  const stats = fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => readStat(Number(entry)))
    .filter((stat): stat is ProcStat => stat !== undefined);
  const byPid = new Map(stats.map((stat) => [stat.pid, stat]));
  const ours = (stat: ProcStat): boolean => {
    for (let current: ProcStat | undefined = stat; current; current = byPid.get(current.ppid))
      if (current.pid === process.pid) return true;
    return false;
  };
  const totals = new Map<string, number>();
  for (const stat of stats) {
    if (!ours(stat)) continue;
    const name = stat.pid === process.pid ? 'bench client' : stat.name;
    totals.set(name, (totals.get(name) ?? 0) + stat.cpuSeconds);
  }
  const machine = os
    .cpus()
    .reduce((sum, cpu) => sum + cpu.times.user + cpu.times.sys + cpu.times.nice + cpu.times.irq, 0);
  totals.set('whole machine', machine / 1000);
  return totals;
}

/** What each program used between two readings. */
export function cpuSince(before: Map<string, number>): Map<string, number> {
  const after = cpuByProgram();
  return new Map([...after].map(([name, seconds]) => [name, seconds - (before.get(name) ?? 0)]));
}
