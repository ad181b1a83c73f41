import os from 'node:os';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { bootId, isAlive, isSameProcess, startTicks } from '../providers/exec/process-identity';

/** Whose command it is. */
export interface CommandOwner {
  releaseId: string;
  stepId: string;
  attempt: number;
  /** A compensation's command: a later undo never stops it. */
  compensating: boolean;
}

interface CommandRow {
  id: string;
  release_id: string;
  step_id: string;
  attempt: number;
  compensating: boolean;
  host: string;
  boot_id: string;
  worker_pid: number;
  pgid: number;
  start_ticks: string;
  label: string;
}

/** How long a stopped command gets to exit on SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5000;
/** How often to look whether a stopped process has gone. */
const EXIT_POLL_MS = 50;

/**
 * Commands Tollgate started for steps, recorded in Tollgate's PostgreSQL until they exit, with the
 * host, the boot, the worker's pid and the process group. A command outlives a worker that is
 * killed (it runs in its own process group); this is how the next attempt, the compensation, or
 * the next worker on the same host finds it and stops it, waiting until it is gone.
 *
 * Only processes on this host can be stopped from here. On other hosts the lane's fencing token
 * (TOLLGATE_FENCE, and the routers' fence) is what keeps a late write from landing.
 */
export class RunningCommands {
  private readonly host = os.hostname();
  private readonly boot = bootId();

  constructor(
    private readonly db: Knex,
    private readonly log: Logger,
  ) {}

  /** Records a started command; returns what to call once it has exited. */
  async track(owner: CommandOwner, pid: number, label: string): Promise<() => Promise<void>> {
    const [row] = await this.db('running_commands')
      .insert({
        release_id: owner.releaseId,
        step_id: owner.stepId,
        attempt: owner.attempt,
        compensating: owner.compensating,
        host: this.host,
        boot_id: this.boot,
        worker_pid: process.pid,
        pgid: pid,
        start_ticks: startTicks(pid) ?? 'gone',
        label,
      })
      .returning<{ id: string }[]>('id');
    return async () => {
      if (row) await this.db('running_commands').where({ id: row.id }).delete();
    };
  }

  /**
   * Before a retry or an undo runs: stops, and waits for, what earlier attempts started on this
   * host and may still run. A retry stops its own step's earlier attempts; an undo stops every
   * forward command of its release (the step it undoes must be over before it starts).
   */
  async stopEarlier(owner: CommandOwner): Promise<string[]> {
    const query = this.db<CommandRow>('running_commands').where({
      host: this.host,
      boot_id: this.boot,
      release_id: owner.releaseId,
    });
    const rows = owner.compensating
      ? await query.where({ compensating: false })
      : await query.where({ step_id: owner.stepId }).where('attempt', '<', owner.attempt);
    return this.stop(rows, `${owner.stepId} attempt ${owner.attempt} ${owner.compensating ? 'undoes it' : 'retries it'}`);
  }

  /**
   * When a worker starts: stops commands that workers on this host left behind when they died
   * (their worker process is gone), and forgets those of an earlier boot (gone with it).
   */
  async stopOrphans(): Promise<string[]> {
    await this.db('running_commands').where({ host: this.host }).whereNot({ boot_id: this.boot }).delete();
    const rows = await this.db<CommandRow>('running_commands').where({
      host: this.host,
      boot_id: this.boot,
    });
    return this.stop(
      rows.filter((row) => row.worker_pid !== process.pid && !isAlive(row.worker_pid)),
      'its worker died',
    );
  }

  private async stop(rows: CommandRow[], why: string): Promise<string[]> {
    const stopped: string[] = [];
    for (const row of rows) {
      if (isSameProcess(row.pgid, row.start_ticks)) {
        this.log.warn(
          { releaseId: row.release_id, stepId: row.step_id, attempt: row.attempt, pgid: row.pgid, command: row.label },
          `stopping a command left running by an earlier attempt: ${why}`,
        );
        await stopProcessGroup(row.pgid, row.start_ticks);
        stopped.push(`${row.step_id} attempt ${row.attempt}: ${row.label}`);
      }
      await this.db('running_commands').where({ id: row.id }).delete();
    }
    return stopped;
  }
}

/** SIGTERM to the group, SIGKILL after a grace, and back only once the group's leader is gone. */
async function stopProcessGroup(pgid: number, ticks: string): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pgid, name);
    } catch {
      // gone already
    }
  };
  signal('SIGTERM');
  const killAt = Date.now() + STOP_GRACE_MS;
  let killed = false;
  while (isSameProcess(pgid, ticks)) {
    if (!killed && Date.now() > killAt) {
      signal('SIGKILL');
      killed = true;
    }
    await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
  }
  // The leader is gone; whatever else of its group remains goes too.
  signal('SIGKILL');
}
