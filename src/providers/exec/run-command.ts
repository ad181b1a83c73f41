import { spawn } from 'node:child_process';
import { secretForms } from './secret-forms';

/** How much of a failed command's output is kept for the error (the tail is where errors are). */
export const OUTPUT_TAIL_BYTES = 2048;

export interface CommandRequest {
  command: string;
  cwd?: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Aborts the command (activity cancelled, worker shutting down). */
  signal?: AbortSignal;
  /** Values that must never appear in error messages or logs (resolved secrets). */
  redact?: string[];
  /**
   * Told the process group as soon as the command starts; what it returns is called once the
   * command has exited, before the result is returned (see ProviderContext.trackCommand).
   */
  track?: (pid: number) => Promise<() => Promise<void>>;
}

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  stdoutTail: string;
  stderrTail: string;
  durationMs: number;
}

/**
 * Runs a shell command in its own process group, so a timeout or a cancellation stops the whole
 * tree it started, not only `sh`. Never throws for the command's own failure: the caller decides.
 */
export async function runCommand(request: CommandRequest): Promise<CommandResult> {
  let untrack: (() => Promise<void>) | undefined;
  let tracking: Promise<unknown> = Promise.resolve();
  try {
    const result = await spawnAndWait(request, (pid) => {
      if (request.track) tracking = request.track(pid).then((done) => (untrack = done));
      return tracking;
    });
    // A command that could not be tracked never ran: say why, not "exit code 1".
    await tracking;
    return result;
  } finally {
    // The record goes only after the command has exited, and only once it was made.
    await tracking.catch(() => undefined);
    await untrack?.();
  }
}

/**
 * The shell waits for one line on its stdin before it runs the command: it gets it only once the
 * command is tracked, so a worker that dies at any moment leaves no command that nobody knows of
 * (a dead worker's pipe closes without the line, and the command never runs).
 */
const RUN_WHEN_TRACKED = 'read -r _ && exec /bin/sh -c "$1"';

function spawnAndWait(request: CommandRequest, onSpawn: (pid: number) => Promise<unknown>): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', RUN_WHEN_TRACKED, 'tollgate-command', request.command], {
      cwd: request.cwd,
      env: request.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.on('error', () => undefined); // the shell may be gone (stopped) before the go-ahead
    if (child.pid)
      onSpawn(child.pid).then(
        () => child.stdin.end('\n'),
        () => child.stdin.end(), // not tracked: the command never runs (no line), the shell exits 1
      );
    else child.stdin.end();
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    const keepTail = (buffer: string, chunk: Buffer) => (buffer + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES * 2);
    child.stdout.on('data', (chunk: Buffer) => (stdout = keepTail(stdout, chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr = keepTail(stderr, chunk)));

    const killTree = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const stop = () => {
      killTree('SIGTERM');
      setTimeout(() => killTree('SIGKILL'), 5000).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, request.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      const clean = (text: string) =>
        redact(text, request.redact ?? [])
          .slice(-OUTPUT_TAIL_BYTES)
          .trim();
      resolve({
        exitCode,
        signal,
        timedOut,
        aborted,
        stdoutTail: clean(stdout),
        stderrTail: clean(stderr),
        durationMs: Date.now() - started,
      });
    });
  });
}

/** The text with every secret replaced, in its own form and its encoded ones (secret-forms.ts). */
export function redact(text: string, secrets: string[]): string {
  return secrets
    .filter((secret) => secret.length >= 4)
    .flatMap((secret) => [secret, ...secretForms(secret)])
    .sort((a, b) => b.length - a.length)
    .reduce((out, form) => out.split(form).join('[redacted]'), text);
}

/** One paragraph for people: what ran, how it ended, and the end of what it printed. */
export function describeFailure(label: string, result: CommandResult, timeoutMs: number): string {
  const how = result.timedOut
    ? `timed out after ${Math.round(timeoutMs / 1000)}s and was killed`
    : result.aborted
      ? 'was cancelled'
      : result.signal
        ? `was killed by ${result.signal}`
        : `exited with status ${result.exitCode}`;
  const parts = [`${label} ${how}`];
  if (result.stderrTail) parts.push(`stderr (last lines):\n${result.stderrTail}`);
  if (result.stdoutTail) parts.push(`stdout (last lines):\n${result.stdoutTail}`);
  return parts.join('\n');
}
