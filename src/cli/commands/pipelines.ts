import type { Command } from 'commander';
import type { PipelineResult, PipelineStatus } from '../../domain/pipeline';
import type { CliContext } from '../context';
import { print } from '../output';
import { renderTable } from '../table';

type Run = (action: (ctx: CliContext) => Promise<number | void>) => Promise<void>;

/** Exit status of `pipeline start --wait`: 0 Succeeded, 3 Superseded, 1 Failed or Rejected. */
const EXIT_FOR_OUTCOME = { Succeeded: 0, Failed: 1, Rejected: 1, Superseded: 3 } as const;

async function pipelineClient(ctx: CliContext) {
  const { PipelineClient } = require('../../client/pipeline-client') as typeof import('../../client/pipeline-client');
  const releases = await ctx.releases();
  return new PipelineClient(releases.client, releases.taskQueue);
}

/** `tollgate pipeline start|status|list`: a run per commit through the environments of a pipeline file. */
export function registerPipelineCommands(program: Command, run: Run): void {
  const pipeline = program.command('pipeline').description('continuous delivery: a commit through every environment');

  pipeline
    .command('start <pipeline-file>')
    .description('start a pipeline run for a commit (one run per commit; a newer commit supersedes older runs)')
    .requiredOption('--commit <sha>', 'the commit being delivered (lead time to production counts from its time)')
    .option('--committed-at <time>', 'the commit time, ISO-8601 (default: asked of git)')
    .option('--version <version>', 'the version every environment releases (default: the commit sha)')
    .option(
      '--as <user>',
      'local mode only (TOLLGATE_AUTH=none): act as this user id (default: $TOLLGATE_USER or your login)',
    )
    .option('--wait', 'wait for the run to end; exit 0 Succeeded, 1 Failed or Rejected, 3 Superseded')
    .option('--json', 'print JSON')
    .action(
      (
        file: string,
        options: {
          commit: string;
          committedAt?: string;
          version?: string;
          as?: string;
          wait?: boolean;
          json?: boolean;
        },
      ) =>
        run(async (ctx) => {
          const { loadPipelineFile } =
            require('../../specs/load-pipeline-file') as typeof import('../../specs/load-pipeline-file');
          const loaded = loadPipelineFile(file, {
            commit: { sha: options.commit, committedAt: options.committedAt },
            version: options.version,
          });
          const pipelines = await pipelineClient(ctx);
          const { actor } = await ctx.identity(options);
          const { pipelineId, started } = await pipelines.start(loaded, actor);
          print({ pipelineId, started }, options.json, () =>
            started
              ? `started ${pipelineId}: ${loaded.stages.map((stage) => stage.environment).join(' → ')}`
              : `${pipelineId} is already running; not started again`,
          );
          if (!options.wait) return;
          const result = await pipelines.result(pipelineId);
          print(result, options.json, () => describeResult(result));
          return EXIT_FOR_OUTCOME[result.outcome];
        }),
    );

  pipeline
    .command('status <pipeline-id>')
    .description('where a pipeline run stands, environment by environment')
    .option('--json', 'print JSON')
    .action((pipelineId: string, options: { json?: boolean }) =>
      run(async (ctx) => {
        const status = await (await pipelineClient(ctx)).status(pipelineId);
        print(status, options.json, () => describeStatus(status));
      }),
    );

  pipeline
    .command('list')
    .description('pipeline runs, newest first')
    .option('--service <service>', 'only this service')
    .option('--limit <n>', 'at most this many', (value) => Number.parseInt(value, 10), 20)
    .option('--json', 'print JSON')
    .action((options: { service?: string; limit: number; json?: boolean }) =>
      run(async (ctx) => {
        const runs = await (await pipelineClient(ctx)).list({ service: options.service, limit: options.limit });
        print(runs, options.json, () =>
          runs.length === 0
            ? 'no pipeline runs'
            : renderTable(
                ['PIPELINE RUN', 'VERSION', 'ENVIRONMENT', 'STAGE', 'STARTED'],
                runs.map((r) => [
                  r.pipelineId,
                  r.version ?? '',
                  r.environment ?? '',
                  r.stage ?? '',
                  r.startTime.toISOString(),
                ]),
              ),
        );
      }),
    );
}

export function describeStatus(s: PipelineStatus): string {
  return [
    `${s.pipelineId}: ${s.service} ${s.version} (commit ${s.commit.sha})${s.outcome ? ` ${s.outcome.outcome}` : ''}`,
    s.outcome?.reason ? `  ${s.outcome.reason}` : undefined,
    ...s.environments.map(
      (e) =>
        `  ${e.environment}: ${e.state}${e.releaseId ? ` (${e.releaseId})` : ''}${e.waitingFor ? `, waiting for ${e.waitingFor}` : ''}${e.reason ? `: ${e.reason}` : ''}`,
    ),
    s.pendingApproval
      ? `  awaiting approval from ${s.pendingApproval.from.join(', ')}: tollgate approve ${s.pipelineId}`
      : undefined,
  ]
    .filter(Boolean)
    .join('\n');
}

function describeResult(result: PipelineResult): string {
  return [
    `${result.pipelineId}: ${result.outcome}${result.reason ? `: ${result.reason}` : ''}`,
    ...result.environments.map((e) => `  ${e.environment}: ${e.state}${e.reason ? `: ${e.reason}` : ''}`),
  ].join('\n');
}
