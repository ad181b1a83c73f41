import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BuildProgress, formatElapsed } from './build-progress';
import { CacheLock } from './cache-lock';

/** Something the local stack builds once per machine and keeps in the cache dir (a Go binary). */
export interface SharedBuild {
  /** For people: "the Temporal CLI (go install ...)". */
  what: string;
  /** Names the lock and the recorded duration: "temporal-cli-v1.5.1". */
  key: string;
  /** The cache dir: locks under locks/, durations in build-times.json. */
  cacheDir: string;
  /** Said while no earlier build here gives an estimate, e.g. "usually 5-20 minutes on 2 cores". */
  firstTimeEstimate: string;
  /** Is it there already (built earlier, or by the run we waited for)? */
  isBuilt(): Promise<boolean>;
  /** Builds it; calls `step` with what it is doing now. Throws when the build fails. */
  build(step: (detail: string) => void): Promise<void>;
}

export interface BuildOnceOptions {
  say: (line: string) => void;
  /** A terminal to redraw progress on (process.stderr when it is one). */
  terminal?: NodeJS.WriteStream;
  /** How often a waiting run looks at the lock, and a non-terminal progress line is written. */
  pollMs?: number;
  progressEveryMs?: number;
}

export type BuildOnceOutcome = 'present' | 'built' | 'waited';

/**
 * Builds `target` once however many runs ask at the same time: the first takes a lock in the
 * cache dir and builds with visible progress; the others say whom they wait for and wait, then
 * use what it built (or, if it failed or died, one of them builds). Returns what happened.
 */
export async function buildOnce(target: SharedBuild, options: BuildOnceOptions): Promise<BuildOnceOutcome> {
  if (await target.isBuilt()) return 'present';
  const lock = new CacheLock(path.join(target.cacheDir, 'locks', `${target.key}.lock`));
  let waitingSaid: string | undefined;
  let lastWaitLine = 0;
  for (;;) {
    const held = lock.tryAcquire(`building ${target.what}`);
    if (held) {
      try {
        // The run we waited for may have finished between its release and our acquire.
        if (await target.isBuilt()) return waitingSaid ? 'waited' : 'present';
        await buildWithProgress(target, options);
        return 'built';
      } finally {
        held.release();
      }
    }
    const owner = lock.owner();
    if (owner) {
      const since = formatElapsed(Date.now() - Date.parse(owner.since));
      const key = `${owner.pid}@${owner.host}`;
      if (waitingSaid !== key) {
        options.say(
          `waiting for ${target.what}: another run (pid ${owner.pid}) is building it, started ${since} ago; this run uses it when done`,
        );
        waitingSaid = key;
        lastWaitLine = Date.now();
      } else if (Date.now() - lastWaitLine >= (options.progressEveryMs ?? 30_000)) {
        options.say(`still waiting for pid ${owner.pid} to finish building ${target.what} (${since} so far)`);
        lastWaitLine = Date.now();
      }
    }
    await sleep(options.pollMs ?? 500);
    if (!lock.owner() && (await target.isBuilt())) return 'waited';
  }
}

async function buildWithProgress(target: SharedBuild, options: BuildOnceOptions): Promise<void> {
  const timesFile = path.join(target.cacheDir, 'build-times.json');
  const times = readTimes(timesFile);
  const progress = new BuildProgress({
    what: target.what,
    lastMillis: times[target.key],
    firstTimeEstimate: target.firstTimeEstimate,
    say: options.say,
    terminal: options.terminal,
    everyMs: options.progressEveryMs,
  });
  const started = Date.now();
  try {
    await target.build((detail) => progress.step(detail));
  } catch (err) {
    progress.finish('failed building');
    throw err;
  }
  progress.finish('built');
  writeTimes(timesFile, { ...readTimes(timesFile), [target.key]: Date.now() - started });
}

function readTimes(file: string): Record<string, number> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

function writeTimes(file: string, times: Record<string, number>): void {
  const partial = `${file}.${process.pid}`;
  fs.writeFileSync(partial, JSON.stringify(times, null, 2));
  fs.renameSync(partial, file);
}
