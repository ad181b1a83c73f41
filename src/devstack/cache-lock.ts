import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRunning } from './process-liveness';

/** Who holds a lock, as written in its file. */
export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  since: string;
  /** What the holder does under the lock, for the people waiting. */
  what: string;
}

export interface HeldLock {
  release(): void;
}

/**
 * A lock file in the cache dir, so that concurrent runs (two `tollgate dev`, a test run beside a
 * demo) build a thing once. The file is created exclusively and holds its owner's pid; a lock
 * whose owner died (a run killed in the middle of a build) is broken by the next one to look.
 * One machine only: owners on other hosts (a cache dir shared over a network) are never judged dead.
 */
export class CacheLock {
  constructor(readonly file: string) {}

  /** Takes the lock if it is free (or its owner is dead); undefined when someone alive holds it. */
  tryAcquire(what: string): HeldLock | undefined {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const owner: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), what };
    // Written whole under another name, then linked into place: link fails if the lock exists, and
    // a reader never sees a half-written owner.
    const candidate = `${this.file}.${process.pid}`;
    fs.writeFileSync(candidate, JSON.stringify(owner));
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          fs.linkSync(candidate, this.file);
          return { release: () => this.releaseIfOurs() };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const holder = this.owner();
        if (holder && !this.isDead(holder)) return undefined;
        if (holder) this.breakStale(holder);
      }
      return undefined;
    } finally {
      fs.rmSync(candidate, { force: true });
    }
  }

  /** The current owner, if the lock is held. */
  owner(): LockOwner | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as LockOwner;
    } catch {
      return undefined;
    }
  }

  isDead(owner: LockOwner): boolean {
    return owner.host === os.hostname() && !isRunning(owner.pid);
  }

  /** Removes a dead owner's lock, unless another run replaced it meanwhile. */
  private breakStale(seen: LockOwner): void {
    const now = this.owner();
    if (!now || now.pid !== seen.pid || now.since !== seen.since) return;
    fs.rmSync(this.file, { force: true });
  }

  private releaseIfOurs(): void {
    if (this.owner()?.pid === process.pid) fs.rmSync(this.file, { force: true });
  }
}
