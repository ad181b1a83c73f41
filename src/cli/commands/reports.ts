import type { Command } from 'commander';
import { deliveryMetrics } from '../../audit/dora';
import { approvalsOf, releaseEvents, releaseHistory, type ApprovalRecord } from '../../audit/history';
import { renderDeliveryMetrics, renderHistory } from '../../audit/report';
import { DURATION_PATTERN, toMillis } from '../../domain/duration';
import { TollgateError } from '../../domain/errors';
import type { CliContext } from '../context';
import { print } from '../output';

type Run = (action: (ctx: CliContext) => Promise<number | void>) => Promise<void>;

/** `--since 30d` or `--since 2026-11-01`. */
function sinceDate(since: string): Date {
  if (DURATION_PATTERN.test(since)) return new Date(Date.now() - toMillis(since));
  const parsed = new Date(since);
  if (Number.isNaN(parsed.getTime()))
    throw new TollgateError('USAGE', `--since ${since} is neither a duration (30d) nor a date (2026-11-01)`);
  return parsed;
}

export function registerReportCommands(program: Command, run: Run): void {
  program
    .command('history <service>')
    .description("a service's releases from the audit log, newest first")
    .option('--environment <environment>')
    .option('--limit <n>', 'at most this many', '20')
    .option('--release <release>', 'instead, every event of one release')
    .option('--json', 'print JSON')
    .action((service: string, options: { environment?: string; limit: string; release?: string; json?: boolean }) =>
      run(async (ctx) => {
        if (options.release) {
          const events = await releaseEvents(ctx.db(), options.release);
          const decisions = await approvalsOf(ctx.db(), options.release);
          print(events, options.json, () =>
            [
              events.map((e) => `${e.at}  ${e.stage.padEnd(16)} ${e.actor.padEnd(10)} ${e.message}`).join('\n') ||
                'no events',
              ...(decisions.length ? ['decisions:', ...decisions.map(describeDecision)] : []),
            ].join('\n'),
          );
          return;
        }
        const rows = await releaseHistory(ctx.db(), {
          service,
          environment: options.environment,
          limit: Number(options.limit),
        });
        print(rows, options.json, () => renderHistory(rows));
      }),
    );

  program
    .command('dora')
    .description('delivery metrics: deployment frequency, lead time, change failure rate, time to restore')
    .option('--service <service>')
    .option('--environment <environment>')
    .option('--since <when>', 'a duration back from now (30d) or a date', '30d')
    .option(
      '--pipeline <pipeline-file>',
      "a pipeline's metrics: lead time to its last environment, deploys per environment",
    )
    .option(
      '--failures-in <where>',
      'with --pipeline: count failures in "production" (default) or "all" environments',
      'production',
    )
    .option('--json', 'print JSON')
    .action(
      (options: {
        service?: string;
        environment?: string;
        since: string;
        pipeline?: string;
        failuresIn: string;
        json?: boolean;
      }) =>
        run(async (ctx) => {
          if (options.pipeline) {
            const { pipelineEnvironments } =
              require('../../specs/load-pipeline-file') as typeof import('../../specs/load-pipeline-file');
            const { pipelineDeliveryMetrics } =
              require('../../audit/pipeline-dora') as typeof import('../../audit/pipeline-dora');
            const { renderPipelineDeliveryMetrics } =
              require('../../audit/report') as typeof import('../../audit/report');
            if (options.failuresIn !== 'production' && options.failuresIn !== 'all')
              throw new TollgateError('USAGE', `--failures-in ${options.failuresIn}: write production or all`);
            const pipeline = pipelineEnvironments(options.pipeline);
            const report = await pipelineDeliveryMetrics(ctx.db(), {
              ...pipeline,
              production: options.environment,
              failuresIn: options.failuresIn,
              since: sinceDate(options.since),
            });
            print(report, options.json, () => renderPipelineDeliveryMetrics(report));
            return;
          }
          const report = await deliveryMetrics(ctx.db(), {
            service: options.service,
            environment: options.environment,
            since: sinceDate(options.since),
          });
          print(report, options.json, () => renderDeliveryMetrics(report));
        }),
    );
}

/** One decision and how its maker was known: `bob@example.com approved "approval at 50%" via cli, verified by <issuer> (subject 4f1c)`. */
function describeDecision(decision: ApprovalRecord): string {
  const how =
    decision.trust === 'none'
      ? 'taken on trust (local mode)'
      : decision.trust === 'verified'
        ? `verified${decision.issuer ? ` by ${decision.issuer}` : ''}${decision.subject ? ` (subject ${decision.subject})` : ''}`
        : 'identity not recorded (before proofs)';
  return `  ${decision.at}  ${decision.approver} ${decision.decision} "${decision.step}"${decision.channel ? ` via ${decision.channel}` : ''}, ${how}`;
}
