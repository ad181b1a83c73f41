import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { ReleaseStatus } from '../domain/release';
import { fitToWidth } from './fit-line';

export interface ErrorRates {
  stable?: number;
  canary?: number;
}

/** What the view shows for one moment of a release. */
export interface Frame {
  status: ReleaseStatus;
  errors: ErrorRates;
  requestsPerSecond: number;
}

/**
 * The demo's live view of one release. In a terminal: a progress bar over the plan's steps and a
 * traffic bar with the error rates of stable and canary, with the release's events scrolling
 * above. Elsewhere (CI, a pipe): the events and a status line every few seconds.
 */
export class LiveView {
  private readonly bars?: MultiBar;
  private readonly progress?: SingleBar;
  private readonly traffic?: SingleBar;
  private lastLine = 0;
  private printedEvents = 0;

  constructor(
    private readonly title: string,
    private readonly interactive: boolean,
    private readonly write: (line: string) => void,
  ) {
    if (interactive) {
      this.bars = new MultiBar(
        { hideCursor: true, clearOnComplete: false, barsize: 30, forceRedraw: true },
        Presets.shades_classic,
      );
      this.progress = this.bars.create(1, 0, {}, { format: `${title.padEnd(22)} {bar} step {value}/{total}  {stage}` });
      this.traffic = this.bars.create(
        100,
        0,
        {},
        {
          format: `${'  canary weight'.padEnd(22)} {bar} {value}%  errors: stable {stableErrors}  canary {canaryErrors}  ({rps} req/s)`,
        },
      );
    } else {
      write(`── ${title}`);
    }
  }

  update(frame: Frame): void {
    const { status } = frame;
    const done = status.steps.filter((step) => step.state !== 'pending' && step.state !== 'running').length;
    for (const event of status.events.slice(this.printedEvents))
      this.say(`  ${event.at.slice(11, 19)}  ${event.kind.padEnd(12)} ${event.message}`);
    this.printedEvents = status.events.length;
    const stage = `${status.stage}${status.hold ? ` (holding: ${fitToWidth(status.hold.reason, 60)})` : ''}`;
    if (this.progress && this.traffic) {
      this.progress.setTotal(Math.max(1, status.steps.length));
      this.progress.update(done, { stage });
      this.traffic.update(status.weight, {
        stableErrors: percent(frame.errors.stable),
        canaryErrors: percent(frame.errors.canary),
        rps: Math.round(frame.requestsPerSecond),
      });
    } else if (Date.now() - this.lastLine > 3000) {
      this.lastLine = Date.now();
      this.write(
        `  [${status.stage}] step ${done}/${status.steps.length}, canary ${status.weight}%, errors stable ${percent(frame.errors.stable)} canary ${percent(frame.errors.canary)}`,
      );
    }
  }

  close(): void {
    // Flush the last events before the bars stop redrawing.
    this.bars?.update();
    this.bars?.stop();
  }

  private say(line: string): void {
    // Cut to the terminal's width (a wrapped line throws the bars' redraw off by a line, which shows
    // as garbled text) and padded to it, so no part of a bar redrawn on that line shows behind it.
    const width = Math.max(1, (process.stdout.columns ?? 80) - 1);
    const fitted = fitToWidth(line, width);
    if (this.bars) this.bars.log(`${fitted}${' '.repeat(Math.max(0, width - [...fitted].length))}\n`);
    else this.write(line);
  }
}

function percent(value: number | undefined): string {
  return value === undefined ? '  -  ' : `${(value * 100).toFixed(1).padStart(4)}%`;
}
