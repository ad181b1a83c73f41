/** The part of cli-progress the demo's live view uses (the package ships no types). */
declare module 'cli-progress' {
  interface BarOptions {
    format?: string;
    barCompleteChar?: string;
    barIncompleteChar?: string;
    hideCursor?: boolean;
    clearOnComplete?: boolean;
    stopOnComplete?: boolean;
    barsize?: number;
    noTTYOutput?: boolean;
    forceRedraw?: boolean;
  }
  export class SingleBar {
    update(value: number, payload?: Record<string, string | number>): void;
    setTotal(total: number): void;
  }
  export class MultiBar {
    constructor(options: BarOptions, preset?: object);
    create(total: number, start: number, payload?: Record<string, string | number>, options?: BarOptions): SingleBar;
    log(text: string): void;
    /** Redraws now, flushing lines given to log(). */
    update(): void;
    stop(): void;
  }
  export const Presets: { shades_classic: object; rect: object };
}
