import { factsEnvironment, resolveSpecEnvironment } from './environment';
import { describeFailure, runCommand, type CommandResult } from './run-command';
import { toMillis } from '../../domain/duration';
import { FailureType } from '../../domain/failures';
import { ProviderError, type ProviderContext } from '../context';

/**
 * Variables of the worker that user commands inherit. Everything else (database URLs, tokens)
 * stays out unless the spec passes it on explicitly with env:NAME.
 */
export const INHERITED_VARIABLES = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'USER', 'SHELL', 'TMPDIR'];

export interface ExecOptions {
  workingDirectory?: string;
  env?: Record<string, string>;
  timeout: string;
}

/** Runs one of the user's commands for a step, with the release's facts in TOLLGATE_* variables. */
export async function runExecStep(
  ctx: ProviderContext,
  options: ExecOptions,
  action: string,
  command: string,
  extra: Record<string, string | number | undefined> = {},
): Promise<CommandResult> {
  const resolved = resolveSpecEnvironment(options.env, process.env);
  const inherited = Object.fromEntries(
    INHERITED_VARIABLES.filter((name) => process.env[name] !== undefined).map((name) => [
      name,
      process.env[name] as string,
    ]),
  );
  const timeoutMs = toMillis(options.timeout);
  const { trackCommand } = ctx;
  const result = await runCommand({
    command,
    cwd: options.workingDirectory,
    env: {
      ...inherited,
      ...resolved.env,
      ...factsEnvironment(ctx.facts, {
        TOLLGATE_ACTION: action,
        TOLLGATE_STEP_ID: ctx.stepId,
        TOLLGATE_FENCE: ctx.fence?.token,
        ...extra,
      }),
    },
    timeoutMs,
    signal: ctx.signal,
    redact: resolved.secrets,
    track: trackCommand && ((pid) => trackCommand(pid, `${action}: ${command}`)),
  }).catch((err: NodeJS.ErrnoException) => {
    // The command could not even start: a missing working directory, for instance.
    throw new ProviderError(
      `${action}: could not run "${command}" in ${options.workingDirectory ?? 'the worker folder'}: ${err.message}`,
      false,
    );
  });
  ctx.log.debug({ action, exitCode: result.exitCode, durationMs: result.durationMs }, 'exec command finished');
  return result;
}

/** Runs the command and fails the step unless it exits 0. */
export async function runExecStepOrFail(
  ctx: ProviderContext,
  options: ExecOptions,
  action: string,
  command: string,
  extra: Record<string, string | number | undefined> = {},
): Promise<CommandResult> {
  const result = await runExecStep(ctx, options, action, command, extra);
  if (result.exitCode === 126 || result.exitCode === 127) {
    // The shell's own answer: the command is not there or cannot run. Retrying changes nothing.
    throw new ProviderError(
      describeFailure(`${action} command "${command}"`, result, toMillis(options.timeout)) +
        `\nThe shell could not find or run it (exit ${result.exitCode}): check the path (relative to ${options.workingDirectory ?? "the worker's folder"}) and that it is executable.`,
      false,
      FailureType.CommandNotFound,
    );
  }
  if (result.exitCode !== 0)
    throw new ProviderError(describeFailure(`${action} command "${command}"`, result, toMillis(options.timeout)));
  return result;
}
