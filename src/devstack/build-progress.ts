/** 95 s → "1m35s". */
export function formatElapsed(millis: number): string {
  const seconds = Math.max(0, Math.round(millis / 1000));
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

export interface ProgressOptions {
  /** What is built, for people: "the Temporal CLI". */
  what: string;
  /** How long the last build here took, if one was recorded. */
  lastMillis?: number;
  /** Said instead of an estimate when nothing was recorded. */
  firstTimeEstimate: string;
  /** Where lines go (`tollgate dev: ...`). */
  say: (line: string) => void;
  /** A terminal: one line redrawn every second. Otherwise a line every `everyMs`. */
  terminal?: NodeJS.WriteStream;
  everyMs?: number;
}

/**
 * Tells people a long build is alive: elapsed time, an estimate, and what it is doing now.
 * On a terminal it redraws one line; in a log (CI, a pipe) it writes a line now and then.
 */
export class BuildProgress {
  private readonly started = Date.now();
  private detail = '';
  private steps = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: ProgressOptions) {
    const estimate =
      options.lastMillis !== undefined
        ? `the last build here took ${formatElapsed(options.lastMillis)}`
        : options.firstTimeEstimate;
    options.say(`building ${options.what} (${estimate}); later runs reuse it`);
    const interactive = Boolean(options.terminal?.isTTY);
    this.timer = setInterval(() => this.report(interactive), interactive ? 1000 : (options.everyMs ?? 30_000));
    this.timer.unref();
  }

  /** What the build does now, e.g. the package being compiled. */
  step(detail: string): void {
    this.detail = detail;
    this.steps += 1;
  }

  line(): string {
    const elapsed = Date.now() - this.started;
    const left =
      this.options.lastMillis !== undefined && this.options.lastMillis > elapsed
        ? `, about ${formatElapsed(this.options.lastMillis - elapsed)} left`
        : '';
    const now = this.detail ? `; ${this.steps} steps so far, now ${this.detail}` : '';
    return `building ${this.options.what}: ${formatElapsed(elapsed)} elapsed${left}${now}`;
  }

  finish(outcome: string): void {
    clearInterval(this.timer);
    if (this.options.terminal?.isTTY) this.options.terminal.write('\r\x1b[K');
    this.options.say(`${outcome} ${this.options.what} in ${formatElapsed(Date.now() - this.started)}`);
  }

  private report(interactive: boolean): void {
    const terminal = this.options.terminal;
    if (interactive && terminal) terminal.write(`\r\x1b[K${this.line().slice(0, (terminal.columns || 100) - 1)}`);
    else this.options.say(this.line());
  }
}
