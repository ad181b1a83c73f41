import type { Command } from 'commander';
import { TollgateError } from '../../domain/errors';

type RunBare = (action: () => Promise<number | void>) => Promise<void>;

export function registerDemoCommand(program: Command, runBare: RunBare): void {
  program
    .command('demo')
    .description(
      'run the local stack and release the sample service: v2 to 100%, then a faulty v3 rolled back on its own',
    )
    .option('--ci', 'no live view and no waiting at the end; exit 0 only if v2 Succeeded and v3 RolledBack')
    .option('--rate <n>', 'requests a second through HAProxy', '100')
    .action((options: { ci?: boolean; rate: string }) =>
      runBare(async () => {
        const rate = Number(options.rate);
        if (!Number.isFinite(rate) || rate < 1 || rate > 2000)
          throw new TollgateError(
            'USAGE',
            `--rate must be a number of requests a second between 1 and 2000, not "${options.rate}"`,
          );
        const { runDemo } = require('../../demo/run-demo') as typeof import('../../demo/run-demo');
        return runDemo({
          ci: Boolean(options.ci || process.env.CI),
          rate,
          write: (line) => process.stdout.write(`${line}\n`),
        }).then(
          // Exit now, with this status, rather than wait for every handle of the stack to close.
          (status) => process.exit(status),
        );
      }),
    );
}
