import type { Command } from 'commander';
import { formatDeployWindow, parseDeployWindow } from '../../domain/deploy-window';
import { TollgateError } from '../../domain/errors';
import { toMillis, DURATION_PATTERN } from '../../domain/duration';
import type { CliContext } from '../context';
import { print } from '../output';

type Run = (action: (ctx: CliContext) => Promise<number | void>) => Promise<void>;

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerLaneCommands(program: Command, run: Run): void {
  program
    .command('freeze <service> <environment>')
    .description('hold new and running releases of a lane (rollbacks are never held)')
    .requiredOption('--reason <text>', 'why, shown to everyone whose release waits')
    .option('--for <duration>', 'lift the freeze by itself after this long, e.g. 2h')
    .option('--as <user>', 'local mode only (TOLLGATE_AUTH=none): who freezes it')
    .action((service: string, environment: string, options: { reason: string; for?: string; as?: string }) =>
      run(async (ctx) => {
        if (options.for && !DURATION_PATTERN.test(options.for)) {
          throw new TollgateError('USAGE', `--for ${options.for} is not a duration such as 30m or 2h`);
        }
        const until = options.for ? new Date(Date.now() + toMillis(options.for)).toISOString() : undefined;
        const { actor, proof } = await ctx.identity(options);
        await (
          await ctx.releases()
        ).freeze(
          service,
          environment,
          { reason: options.reason, by: actor.id, at: new Date().toISOString(), until },
          proof,
        );
        print(
          undefined,
          false,
          () => `froze ${service}/${environment}${until ? ` until ${until}` : ''}: ${options.reason}`,
        );
      }),
    );

  program
    .command('unfreeze <service> <environment>')
    .description('lift a freeze; held releases go on')
    .option('--reason <text>', 'why', 'freeze lifted')
    .option('--as <user>', 'local mode only (TOLLGATE_AUTH=none): who lifts it')
    .action((service: string, environment: string, options: { reason: string; as?: string }) =>
      run(async (ctx) => {
        const { actor, proof } = await ctx.identity(options);
        await (await ctx.releases()).unfreeze(service, environment, actor.id, options.reason, proof);
        print(undefined, false, () => `unfroze ${service}/${environment}`);
      }),
    );

  program
    .command('windows <service> <environment>')
    .description('set the recurring deploy windows of a lane, e.g. --set "mon-fri 09:00-16:00 Europe/Berlin"')
    .option('--set <window>', 'a window (repeatable); releases outside every window hold', collect)
    .option('--clear', 'remove all windows: releases may run at any time')
    .option('--as <user>', 'local mode only (TOLLGATE_AUTH=none): who sets them')
    .action((service: string, environment: string, options: { set?: string[]; clear?: boolean; as?: string }) =>
      run(async (ctx) => {
        if (!options.set && !options.clear)
          throw new TollgateError('USAGE', 'give --set "<window>" (repeatable) or --clear');
        let windows;
        try {
          windows = (options.set ?? []).map(parseDeployWindow);
        } catch (err) {
          throw new TollgateError('USAGE', (err as Error).message);
        }
        const { actor, proof } = await ctx.identity(options);
        await (await ctx.releases()).setWindows(service, environment, actor.id, windows, proof);
        print(undefined, false, () =>
          windows.length
            ? `deploy windows of ${service}/${environment}: ${windows.map(formatDeployWindow).join('; ')}`
            : `no deploy windows for ${service}/${environment}`,
        );
      }),
    );

  program
    .command('lane <service> <environment>')
    .description('show a lane: stable version, running and queued releases, freeze and windows')
    .option('--json', 'print JSON')
    .action((service: string, environment: string, options: { json?: boolean }) =>
      run(async (ctx) => {
        const lane = await (await ctx.releases()).lane(service, environment);
        print(lane, options.json, () =>
          [
            `${lane.laneId}`,
            `  stable   ${lane.stableVersion ?? '(none yet)'}`,
            `  running  ${lane.current ?? '-'}`,
            `  queued   ${lane.queue.join(', ') || '-'}`,
            `  gate     ${lane.gate.open ? 'open' : `closed: ${lane.gate.reason}`}`,
            `  windows  ${lane.policy.windows.map(formatDeployWindow).join('; ') || 'any time'}`,
            ...lane.recent.map((r) => `  recent   ${r.at}  ${r.releaseId}  ${r.outcome}`),
          ].join('\n'),
        );
      }),
    );
}
