import type { Command } from 'commander';
import type { CliContext } from '../context';
import { print } from '../output';

type Run = (action: (ctx: CliContext) => Promise<number | void>) => Promise<void>;

/** `tollgate login`, `whoami` and `logout`: who the CLI acts for, proven by the organisation's identity provider. */
export function registerIdentityCommands(program: Command, run: Run): void {
  program
    .command('login')
    .description('log in through your identity provider (device flow: works over SSH); tokens are kept 0600')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      run(async (ctx) => {
        const settings = ctx.identitySettings();
        if (settings.mode === 'none') {
          print(undefined, false, () => 'local mode (TOLLGATE_AUTH=none): there is nothing to log in to');
          return;
        }
        const { deviceLogin } = require('../../identity/device-login') as typeof import('../../identity/device-login');
        await deviceLogin(settings, ({ verificationUri, verificationUriComplete, userCode }) =>
          process.stdout.write(
            options.json
              ? `${JSON.stringify({ verificationUri, verificationUriComplete, userCode })}\n`
              : `To log in, open ${verificationUriComplete ?? verificationUri} and confirm the code ${userCode}\n`,
          ),
        );
        const { actor } = await ctx.identity({});
        print(actor, options.json, () => `logged in as ${actor.id}${groupsOf(actor.groups)}`);
      }),
    );

  program
    .command('whoami')
    .description('who the CLI acts for, and how that is known')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      run(async (ctx) => {
        const { actor } = await ctx.identity({});
        print(actor, options.json, () =>
          actor.trust === 'none'
            ? `${actor.id} (local mode, TOLLGATE_AUTH=none: taken on trust, never for production)`
            : `${actor.id}${groupsOf(actor.groups)} (logged in at ${actor.issuer}; the worker verifies each decision)`,
        );
      }),
    );

  program
    .command('logout')
    .description('forget the tokens `tollgate login` kept')
    .action(() =>
      run(async () => {
        const { removeTokens } = require('../../identity/token-cache') as typeof import('../../identity/token-cache');
        const removed = removeTokens();
        print(undefined, false, () => (removed ? 'logged out' : 'you were not logged in'));
        return Promise.resolve();
      }),
    );
}

function groupsOf(groups: string[] | undefined): string {
  return groups?.length ? `, groups ${groups.join(', ')}` : '';
}
