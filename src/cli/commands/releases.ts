import type { Command } from 'commander';
import { ALL_STAGES, type Stage } from '../../domain/stages';
import { TollgateError } from '../../domain/errors';
import type { ReleaseSpec } from '../../domain/spec';
import type { CliContext } from '../context';
import type { ReleaseClient } from '../../client/release-client';
import { print } from '../output';
import { temporalUiLink } from '../../domain/temporal-ui-link';
import { renderStatus, trafficBar } from '../render-status';
import { renderTable } from '../table';

type Run = (action: (ctx: CliContext) => Promise<number | void>) => Promise<void>;

interface IdentityOptions {
  as?: string;
  group?: string[];
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function identity(command: Command): Command {
  return command
    .option(
      '--as <user>',
      'local mode only (TOLLGATE_AUTH=none): act as this user id (default: $TOLLGATE_USER or your login)',
    )
    .option(
      '--group <group>',
      'local mode only: a group you act for, for approvals from group:<name> (repeatable)',
      collect,
    );
}

/** Exit status of `start --wait` and `wait`: 0 Succeeded, 1 RolledBack, 2 Failed. */
const EXIT_FOR_OUTCOME = { Succeeded: 0, RolledBack: 1, Failed: 2 } as const;

export function registerReleaseCommands(program: Command, run: Run): void {
  identity(
    program
      .command('start <spec>')
      .description('start a release from a spec file')
      .option('--version <version>', 'the version to release (overrides the spec)')
      .option('--commit <sha>', 'the commit being released (lead time counts from its time)')
      .option('--committed-at <time>', 'the commit time, ISO-8601 (default: asked of git)')
      .option('--initiator <user>', 'who starts it (same as --as)')
      .option('--wait', 'wait for the release to end; exit 0 Succeeded, 1 RolledBack, 2 Failed')
      .option('--json', 'print JSON'),
  ).action(
    (
      file: string,
      options: IdentityOptions & {
        version?: string;
        commit?: string;
        committedAt?: string;
        initiator?: string;
        wait?: boolean;
      },
    ) =>
      run(async (ctx) => {
        const { loadSpecFile } = require('../../specs/load-spec-file') as typeof import('../../specs/load-spec-file');
        const spec = loadSpecFile(file, {
          version: options.version,
          commit: options.commit ? { sha: options.commit, committedAt: options.committedAt as string } : undefined,
        });
        const { actor } = await ctx.identity({ ...options, as: options.initiator ?? options.as });
        const releases = await ctx.releases();
        const { releaseId, started } = await releases.start(spec, actor);
        const link = ctx.config.TEMPORAL_UI_URL
          ? temporalUiLink(ctx.config.TEMPORAL_UI_URL, releaseId, ctx.config.TEMPORAL_NAMESPACE)
          : undefined;
        const queued = started ? await whyQueued(releases, spec.service, spec.environment, releaseId) : undefined;
        print({ releaseId, started, link, queued }, options.json, () =>
          [
            started ? `started ${releaseId}` : `${releaseId} is already running; not started again`,
            queued && `queued: ${queued}`,
            link,
          ]
            .filter(Boolean)
            .join('\n'),
        );
        if (!options.wait) return;
        const result = await releases.result(releaseId);
        print(
          result,
          options.json,
          () => `${releaseId}: ${result.outcome}${result.reason ? ` (${result.reason})` : ''}`,
        );
        return EXIT_FOR_OUTCOME[result.outcome];
      }),
  );

  program
    .command('validate <spec>')
    .description('check a spec file without starting anything')
    .option('--version <version>', 'the version to check it with')
    .option('--schema', "also run the schema safety check on the spec's migrations (no database needed)")
    .option(
      '--since <file>',
      'with --schema: only migration files from this one on (the older ones are applied already)',
    )
    .action((file: string, options: { version?: string; schema?: boolean; since?: string }) =>
      run(async () => {
        const { loadSpecFile } = require('../../specs/load-spec-file') as typeof import('../../specs/load-spec-file');
        const spec = loadSpecFile(file, { version: options.version });
        if (options.schema) await checkSchemaOffline(spec, options.since);
        print(
          undefined,
          false,
          () =>
            `${file}: valid (${spec.service} → ${spec.environment})${options.schema ? '; schema safety check passed' : ''}`,
        );
      }),
    );

  program
    .command('schema')
    .description('print the JSON Schema of release specs (for editors)')
    .option('--pipeline', 'of pipeline files instead')
    .action((options: { pipeline?: boolean }) =>
      run(() => {
        const { releaseSpecJsonSchema, pipelineSpecJsonSchema } =
          require('../../specs/json-schema') as typeof import('../../specs/json-schema');
        print(options.pipeline ? pipelineSpecJsonSchema() : releaseSpecJsonSchema(), true, () => '');
        return Promise.resolve();
      }),
    );

  program
    .command('status <release>')
    .description("show a release's stage, traffic, steps and recent events")
    .option('--events <n>', 'how many recent events to show', '10')
    .option('--json', 'print JSON')
    .action((releaseId: string, options: { events: string; json?: boolean }) =>
      run(async (ctx) => {
        const status = await (await ctx.releases()).status(releaseId);
        print(status, options.json, () =>
          renderStatus(status, ctx.config.TEMPORAL_UI_URL, Number(options.events), ctx.config.TEMPORAL_NAMESPACE),
        );
      }),
    );

  program
    .command('wait <release>')
    .description('wait for a release to end; exit 0 Succeeded, 1 RolledBack, 2 Failed')
    .option('--json', 'print JSON')
    .action((releaseId: string, options: { json?: boolean }) =>
      run(async (ctx) => {
        const result = await (await ctx.releases()).result(releaseId);
        print(
          result,
          options.json,
          () => `${releaseId}: ${result.outcome}${result.reason ? ` (${result.reason})` : ''}`,
        );
        return EXIT_FOR_OUTCOME[result.outcome];
      }),
    );

  identity(program.command('approve <release>').description('approve the step that awaits approval'))
    .option('--comment <text>', 'a note for the audit log')
    .action((releaseId: string, options: IdentityOptions & { comment?: string }) =>
      run(async (ctx) => {
        const { actor, proof } = await ctx.identity(options);
        const answer = await (
          await ctx.releases()
        ).approve(releaseId, { approver: actor, comment: options.comment, proof });
        print(answer, options.json, () => answer.message);
      }),
    );

  identity(
    program.command('reject <release>').description('reject the step that awaits approval; the release rolls back'),
  )
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .action((releaseId: string, options: IdentityOptions & { reason: string }) =>
      run(async (ctx) => {
        const { actor, proof } = await ctx.identity(options);
        const answer = await (
          await ctx.releases()
        ).reject(releaseId, { approver: actor, reason: options.reason, proof });
        print(answer, options.json, () => answer.message);
      }),
    );

  identity(
    program
      .command('rollback <release>')
      .description('roll the release back now (refused after the schema is contracted)'),
  )
    .option('--reason <text>', 'why')
    .action((releaseId: string, options: IdentityOptions & { reason?: string }) =>
      run(async (ctx) => {
        const { actor, proof } = await ctx.identity(options);
        const answer = await (await ctx.releases()).rollback(releaseId, { actor, reason: options.reason, proof });
        print(answer, options.json, () => answer.message);
      }),
    );

  const signals = [
    ['pause', 'hold the release at its next step until resumed'],
    ['resume', 'let a paused release go on'],
    ['abort', 'stop the release and roll it back'],
  ] as const;
  for (const [name, description] of signals) {
    identity(program.command(`${name} <release>`).description(description))
      .option('--reason <text>', 'why (recorded in the event log)')
      .action((releaseId: string, options: IdentityOptions & { reason?: string }) =>
        run(async (ctx) => {
          const { actor, proof } = await ctx.identity(options);
          await (await ctx.releases())[name](releaseId, { actor, reason: options.reason, proof });
          print(undefined, false, () => `${name} sent to ${releaseId}`);
        }),
      );
  }

  identity(program.command('promote <release>').description('skip the current pause or inconclusive analysis'))
    .option('--full', 'skip every remaining pause and analysis (approvals still apply)')
    .action((releaseId: string, options: IdentityOptions & { full?: boolean }) =>
      run(async (ctx) => {
        const { actor, proof } = await ctx.identity(options);
        await (await ctx.releases()).promote(releaseId, { actor, full: options.full, proof });
        print(undefined, false, () => `promote${options.full ? ' --full' : ''} sent to ${releaseId}`);
      }),
    );

  program
    .command('list')
    .description('list releases through Temporal visibility, newest first')
    .option('--service <service>')
    .option('--environment <environment>')
    .option('--stage <stage>', `one of ${ALL_STAGES.join(', ')}`)
    .option('--limit <n>', 'at most this many', '20')
    .option('--json', 'print JSON')
    .action((options: { service?: string; environment?: string; stage?: string; limit: string; json?: boolean }) =>
      run(async (ctx) => {
        if (options.stage && !ALL_STAGES.includes(options.stage as Stage)) {
          throw new TollgateError(
            'USAGE',
            `--stage ${options.stage} is not a stage; stages are ${ALL_STAGES.join(', ')}`,
          );
        }
        const releases = await (
          await ctx.releases()
        ).list({ ...options, stage: options.stage as Stage, limit: Number(options.limit) });
        print(releases, options.json, () =>
          releases.length === 0
            ? 'no releases match'
            : renderTable(
                ['RELEASE', 'STAGE', 'TRAFFIC', 'STARTED BY', 'STARTED'],
                releases.map((r) => [
                  r.releaseId,
                  r.stage ?? '',
                  trafficBar(r.weight ?? 0, 10),
                  r.initiator ?? '',
                  r.startTime.toISOString().replace(/\.\d+Z$/, 'Z'),
                ]),
              ),
        );
      }),
    );

  identity(
    program.command('retry <release>').description('start the same spec again after a rollback or failure'),
  ).action((releaseId: string, options: IdentityOptions) =>
    run(async (ctx) => {
      const { actor } = await ctx.identity(options);
      const started = await (await ctx.releases()).retry(releaseId, actor);
      print(started, options.json, () => `started ${started.releaseId}`);
    }),
  );
}

/**
 * The safety check Planning runs, on the files themselves: for a pull request's CI, before any
 * release. Without a database it cannot ask knex what is pending, hence --since.
 */
async function checkSchemaOffline(spec: ReleaseSpec, since: string | undefined): Promise<void> {
  if (!spec.database)
    throw new TollgateError('NoDatabase', 'the spec has no database section: there is no schema to check');
  const { loadMigrationFiles } =
    require('../../service-db/migration-files') as typeof import('../../service-db/migration-files');
  const { checkMigrationSafety } =
    require('../../service-db/safety-check') as typeof import('../../service-db/safety-check');
  const files = loadMigrationFiles(spec.database.migrations);
  const checked = files.filter((migration) => !since || migration.name >= since);
  const findings = await checkMigrationSafety(checked, {
    deprecated: files.flatMap((migration) => migration.deprecates),
  });
  if (findings.length === 0) return;
  const lines = findings.map(
    (finding) => `  ${finding.file}: \`${finding.statement}\`\n    ${finding.problem}\n    instead: ${finding.fix}`,
  );
  throw new TollgateError(
    'UnsafeMigration',
    `the schema safety check refused ${findings.length} statement(s):\n${lines.join('\n')}`,
  );
}

/**
 * Why a release just started will not move at once: the lane is frozen or outside its windows,
 * or another release holds it. Undefined when it goes on now (or the lane cannot be asked yet).
 */
async function whyQueued(
  releases: ReleaseClient,
  service: string,
  environment: string,
  releaseId: string,
): Promise<string | undefined> {
  const lane = await releases.lane(service, environment).catch(() => undefined);
  if (!lane) return undefined;
  const reasons = [
    lane.current && lane.current !== releaseId ? `behind ${lane.current}, which holds the lane` : undefined,
    lane.gate.open
      ? undefined
      : `${lane.gate.reason}; it starts by itself when the lane opens${lane.policy.freeze ? ` (\`tollgate unfreeze ${service} ${environment}\` lifts the freeze)` : ''}`,
  ].filter(Boolean);
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}
