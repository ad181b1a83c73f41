import { Command, CommanderError } from 'commander';
import { TollgateError } from '../domain/errors';
import type { CliContext } from './context';
import { tollgateVersion } from './version';
import { registerIdentityCommands } from './commands/identity';
import { registerLaneCommands } from './commands/lanes';
import { registerPipelineCommands } from './commands/pipelines';
import { registerReleaseCommands } from './commands/releases';
import { registerReportCommands } from './commands/reports';
import { registerStackCommands } from './commands/stack';
import { registerDemoCommand } from './commands/demo';

/**
 * The `tollgate` command. A user's mistake prints one line and exits 1; only a bug prints a
 * stack trace, and only with TOLLGATE_DEBUG=1.
 *
 * Each command group registers itself from its own file under commands/. Registration loads
 * nothing heavy: an action imports what it needs when it runs, so `tollgate --help` does not load
 * the Temporal client, and `tollgate status` neither knex nor the worker.
 */
export function buildProgram(): Command {
  const program = new Command('tollgate')
    .description('Release orchestrator on Temporal: staged traffic, metric analysis, approvals, clean rollback')
    // `tollgate --version` is Tollgate's; `tollgate start spec.yaml --version 2.4.0` the release's.
    .enablePositionalOptions()
    .version(`tollgate ${tollgateVersion()}`, '-V, --version', 'print the version')
    .showHelpAfterError('(run `tollgate --help` for usage)');

  const runBare = async (action: () => Promise<number | void>) => {
    process.exitCode = (await action().catch(reportError)) ?? process.exitCode ?? 0;
  };
  const run = async (action: (ctx: CliContext) => Promise<number | void>) =>
    runBare(async () => {
      const { CliContext } = require('./context') as typeof import('./context');
      const ctx = CliContext.create();
      try {
        return await action(ctx);
      } finally {
        await ctx.close();
      }
    });

  registerReleaseCommands(program, run);
  registerLaneCommands(program, run);
  registerIdentityCommands(program, run);
  registerPipelineCommands(program, run);
  registerReportCommands(program, run);
  registerStackCommands(program, runBare);
  registerDemoCommand(program, runBare);
  return program;
}

function reportError(err: unknown): number {
  if (err instanceof TollgateError) {
    process.stderr.write(`error: ${err.message}\n`);
  } else {
    const error = err as Error;
    process.stderr.write(`error: ${error?.message ?? String(err)}\n`);
    if (process.env.TOLLGATE_DEBUG) process.stderr.write(`${error?.stack}\n`);
    else process.stderr.write('(this looks like a bug in Tollgate; run again with TOLLGATE_DEBUG=1 for details)\n');
  }
  return 1;
}

export async function runCli(argv: string[] = process.argv): Promise<void> {
  await buildProgram()
    .exitOverride((err) => {
      throw err;
    })
    .parseAsync(argv)
    .catch((err: unknown) => {
      if (err instanceof CommanderError) process.exitCode = err.exitCode;
      else process.exitCode = reportError(err);
    });
}

if (require.main === module) void runCli();
